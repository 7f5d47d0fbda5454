import { keyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('GetHsmKey', {}, async ({ at, name, version, keys }) => ({
  body: keyBundle(at, await keys.get(at, name, version)),
}));
