import { keysOperation } from '#lib/runtime/keys';
import { keyItemPage } from '#lib/keys/wire';

export const handler = keysOperation('GetKeyVersions', {}, async ({ at, name, page, services }) => ({
  page: keyItemPage(at, await services.keys.listVersions(at, name, page.limit, page.cursor), true),
}));
