import { defineOperation } from '#lib/http/operation';
import { deletedSecretBundle } from '#lib/secrets/wire';

export const handler = defineOperation('DeleteSecret', {}, async ({ at, name, services }) => ({
  body: deletedSecretBundle(at, await services.secrets.delete(at, name)),
}));
