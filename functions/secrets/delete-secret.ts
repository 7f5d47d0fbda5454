import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('DeleteSecret', {}, async ({ at, params, services }) => {
  const deleted = await services.secrets.delete(at, params.name!);
  return { body: deleted, objectId: deleted.id };
});
