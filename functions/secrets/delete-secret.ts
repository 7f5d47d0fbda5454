import { secretsOperation } from '#lib/runtime/secrets';
import { deletedSecretBundle } from '#lib/secrets/wire';

export const handler = secretsOperation('DeleteSecret', {}, async ({ at, name, services }) => ({
  body: deletedSecretBundle(at, await services.secrets.delete(at, name)),
}));
