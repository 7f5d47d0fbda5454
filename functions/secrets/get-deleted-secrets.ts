import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedSecrets', {}, async ({ at, page, services }) => ({
  page: await services.secrets.listDeleted(at, page.limit, page.cursor),
}));
