import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('DeleteKey', {}, async ({ at, params, services }) => {
  const deleted = await services.keys.delete(at, params.name!);
  return { body: deleted, objectId: deleted.key.kid };
});
