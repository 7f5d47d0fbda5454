import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';

export const handler = keysOperation('RotateKey', {}, async ({ at, name, services }) => ({
  body: keyBundle(at, await services.keys.rotate(at, name)),
}));
