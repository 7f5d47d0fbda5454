import { keysOperation } from '#lib/runtime/keys';
import { restoreKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('RestoreKey', { body: restoreKeyBody, bodyRequired: true }, async ({ at, body, services }) => ({
  body: await services.keys.restore(at, body.value),
}));
