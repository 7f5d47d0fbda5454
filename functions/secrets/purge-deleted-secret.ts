import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('PurgeDeletedSecret', {}, async ({ at, params, services }) => {
  await services.secrets.purge(at, params.name!);
  return { status: 204, objectId: `${at.baseUrl}/deletedsecrets/${params.name}` };
});
