import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetDeletedKeys', {}, async ({ at, page, services }) => ({
  page: await services.keys.listDeleted(at, page.limit, page.cursor),
}));
