import { keysOperation } from '#lib/runtime/keys';
import { keyItemPage } from '#lib/keys/wire';

export const handler = keysOperation('GetKeys', {}, async ({ at, page, services }) => ({
  page: keyItemPage(at, await services.keys.list(at, page.limit, page.cursor)),
}));
