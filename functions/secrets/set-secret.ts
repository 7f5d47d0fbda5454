import { secretsOperation } from '#lib/runtime/secrets';
import { secretBundle } from '#lib/secrets/wire';
import { setSecretBody } from '#lib/secrets/schemas';

export const handler = secretsOperation('SetSecret', { body: setSecretBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: secretBundle(at, await services.secrets.set(at, name, body)),
}));
