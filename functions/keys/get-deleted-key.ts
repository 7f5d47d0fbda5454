import { keysOperation } from '#lib/runtime/keys';
import { deletedKeyBundle } from '#lib/keys/wire';

export const handler = keysOperation('GetDeletedKey', {}, async ({ at, name, services }) => ({
  body: deletedKeyBundle(at, await services.keys.getDeleted(at, name)),
}));
