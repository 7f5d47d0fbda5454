import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetSecrets', {}, async ({ at, page, services }) => ({
  page: await services.secrets.list(at, page.limit, page.cursor),
}));
