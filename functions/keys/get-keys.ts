import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetKeys', {}, async ({ at, page, services }) => ({
  page: await services.keys.list(at, page.limit, page.cursor),
}));
