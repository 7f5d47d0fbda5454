import { secretsOperation } from '#lib/runtime/secrets';
import { deletedSecretBundle } from '#lib/secrets/wire';

export const handler = secretsOperation('GetDeletedSecret', {}, async ({ at, name, services }) => ({
  body: deletedSecretBundle(at, await services.secrets.getDeleted(at, name)),
}));
