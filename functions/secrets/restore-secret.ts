import { secretsOperation } from '#lib/runtime/secrets';
import { secretBundle } from '#lib/secrets/wire';
import { restoreSecretBody } from '#lib/secrets/schemas';

export const handler = secretsOperation('RestoreSecret', { body: restoreSecretBody, bodyRequired: true }, async ({ at, body, services }) => ({
  body: secretBundle(at, await services.secrets.restore(at, body.value)),
}));
