import { secretsOperation } from '#lib/runtime/secrets';
import { secretBundle } from '#lib/secrets/wire';
import { updateSecretBody } from '#lib/secrets/schemas';

export const handler = secretsOperation('UpdateSecret', { body: updateSecretBody }, async ({ at, name, version, body, services }) => ({
  body: secretBundle(at, await services.secrets.update(at, name, version, body)),
}));
