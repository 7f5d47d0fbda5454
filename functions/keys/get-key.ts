import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';

export const handler = keysOperation('GetKey', {}, async ({ at, name, version, services }) => ({
  body: keyBundle(at, await services.keys.get(at, name, version)),
}));
