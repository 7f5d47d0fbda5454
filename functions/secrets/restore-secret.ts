import { defineOperation } from '#lib/http/operation';
import { restoreSecretBody } from '#lib/secrets/schemas';

export const handler = defineOperation('RestoreSecret', { body: restoreSecretBody, bodyRequired: true }, async ({ at, body, services }) => ({
  body: await services.secrets.restore(at, body.value),
}));
