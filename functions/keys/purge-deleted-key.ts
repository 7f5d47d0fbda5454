import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('PurgeDeletedKey', {}, async ({ at, params, services }) => {
  await services.keys.purge(at, params.name!);
  return { status: 204, objectId: `${at.baseUrl}/deletedkeys/${params.name}` };
});
