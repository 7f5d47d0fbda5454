import { keysOperation } from '#lib/runtime/keys';
import { deletedKeyItemPage } from '#lib/keys/wire';

export const handler = keysOperation('GetDeletedKeys', {}, async ({ at, page, services }) => ({
  page: deletedKeyItemPage(at, await services.keys.listDeleted(at, page.limit, page.cursor)),
}));
