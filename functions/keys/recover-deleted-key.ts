import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';

export const handler = keysOperation('RecoverDeletedKey', {}, async ({ at, name, services }) => ({
  body: keyBundle(at, await services.keys.recover(at, name)),
}));
