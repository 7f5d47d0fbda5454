import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedKey', {}, async ({ at, params, services }) => {
  const deleted = await services.keys.getDeleted(at, params.name!);
  return { body: deleted, objectId: deleted.key.kid };
});
