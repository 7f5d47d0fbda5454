import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetSecretVersions', {}, async ({ at, name, page, services }) => ({
  page: await services.secrets.listVersions(at, name, page.limit, page.cursor),
}));
