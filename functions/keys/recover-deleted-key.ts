import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RecoverDeletedKey', {}, async ({ at, params, services }) => {
  const bundle = await services.keys.recover(at, params.name!);
  return { body: bundle, objectId: bundle.key.kid };
});
