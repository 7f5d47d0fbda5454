import { deletedKeyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('DeleteHsmKey', {}, async ({ at, name, keys }) => ({
  body: deletedKeyBundle(at, await keys.delete(at, name)),
}));
