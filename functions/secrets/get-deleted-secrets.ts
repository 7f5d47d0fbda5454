import { secretsOperation } from '#lib/runtime/secrets';
import { deletedSecretItemPage } from '#lib/secrets/wire';

export const handler = secretsOperation('GetDeletedSecrets', {}, async ({ at, page, services }) => ({
  page: deletedSecretItemPage(at, await services.secrets.listDeleted(at, page.limit, page.cursor)),
}));
