import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKeyVersions', {}, async ({ at, name, page, services }) => ({
  page: await services.keys.listVersions(at, name, page.limit, page.cursor),
}));
