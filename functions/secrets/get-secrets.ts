import { defineOperation } from '#lib/http/operation';
import { secretItemPage } from '#lib/secrets/wire';

export const handler = defineOperation('GetSecrets', {}, async ({ at, page, services }) => ({
  page: secretItemPage(at, await services.secrets.list(at, page.limit, page.cursor)),
}));
