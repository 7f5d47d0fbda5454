import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKeys', {}, async ({ at, page, services }) => ({
  page: await services.keys.list(at, page.limit, page.cursor),
}));
