import { deletedKeyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('GetDeletedHsmKey', {}, async ({ at, name, keys }) => ({
  body: deletedKeyBundle(at, await keys.getDeleted(at, name)),
}));
