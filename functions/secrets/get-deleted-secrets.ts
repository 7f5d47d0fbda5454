import { defineOperation } from '#lib/http/operation';
import { deletedSecretItemPage } from '#lib/secrets/wire';

export const handler = defineOperation('GetDeletedSecrets', {}, async ({ at, page, services }) => ({
  page: deletedSecretItemPage(at, await services.secrets.listDeleted(at, page.limit, page.cursor)),
}));
