import { keysOperation } from '#lib/runtime/keys';
import { deletedKeyBundle } from '#lib/keys/wire';

export const handler = keysOperation('DeleteKey', {}, async ({ at, name, services }) => ({
  body: deletedKeyBundle(at, await services.keys.delete(at, name)),
}));
