import { secretsOperation } from '#lib/runtime/secrets';
import { secretItemPage } from '#lib/secrets/wire';

export const handler = secretsOperation('GetSecrets', {}, async ({ at, page, services }) => ({
  page: secretItemPage(at, await services.secrets.list(at, page.limit, page.cursor)),
}));
