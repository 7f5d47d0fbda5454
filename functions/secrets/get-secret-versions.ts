import { secretsOperation } from '#lib/runtime/secrets';
import { secretItemPage } from '#lib/secrets/wire';

export const handler = secretsOperation('GetSecretVersions', {}, async ({ at, name, page, services }) => ({
  page: secretItemPage(at, await services.secrets.listVersions(at, name, page.limit, page.cursor), true),
}));
