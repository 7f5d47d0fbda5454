import { defineOperation } from '#lib/http/operation';
import { secretItemPage } from '#lib/secrets/wire';

export const handler = defineOperation('GetSecretVersions', {}, async ({ at, name, page, services }) => ({
  page: secretItemPage(at, await services.secrets.listVersions(at, name, page.limit, page.cursor), true),
}));
