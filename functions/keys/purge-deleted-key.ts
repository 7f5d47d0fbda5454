import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('PurgeDeletedKey', {}, async ({ at, name, services }) => {
  await services.keys.purge(at, name);
  return { status: 204 };
});
