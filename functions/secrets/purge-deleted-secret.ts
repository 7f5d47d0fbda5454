import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('PurgeDeletedSecret', {}, async ({ at, name, services }) => {
  await services.secrets.purge(at, name);
  return { status: 204 };
});
