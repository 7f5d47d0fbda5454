import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedKeys', {}, async ({ at, page, services }) => ({
  page: await services.keys.listDeleted(at, page.limit, page.cursor),
}));
