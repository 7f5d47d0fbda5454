import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetKeyVersions', {}, async ({ at, name, page, services }) => ({
  page: await services.keys.listVersions(at, name, page.limit, page.cursor),
}));
