import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedSecret', {}, async ({ at, params, services }) => {
  const deleted = await services.secrets.getDeleted(at, params.name!);
  return { body: deleted, objectId: deleted.id };
});
