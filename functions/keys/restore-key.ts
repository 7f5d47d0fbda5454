import { defineOperation } from '#lib/http/operation';
import { restoreKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('RestoreKey', { body: restoreKeyBody, bodyRequired: true }, async ({ at, body, services }) => ({
  body: await services.keys.restore(at, body.value),
}));
