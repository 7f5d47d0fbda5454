import { keyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('RecoverDeletedHsmKey', {}, async ({ at, name, keys }) => ({
  body: keyBundle(at, await keys.recover(at, name)),
}));
