import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';
import { restoreKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('RestoreKey', { body: restoreKeyBody, bodyRequired: true }, async ({ at, body, services }) => ({
  body: keyBundle(at, await services.keys.restore(at, body.value)),
}));
