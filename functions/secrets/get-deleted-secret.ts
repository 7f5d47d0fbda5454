import { defineOperation } from '#lib/http/operation';
import { deletedSecretBundle } from '#lib/secrets/wire';

export const handler = defineOperation('GetDeletedSecret', {}, async ({ at, name, services }) => ({
  body: deletedSecretBundle(at, await services.secrets.getDeleted(at, name)),
}));
