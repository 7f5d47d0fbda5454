import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKey', {}, async ({ at, params, services }) => {
  const bundle = await services.keys.get(at, params.name!, params.version);
  return { body: bundle, objectId: bundle.key.kid };
});
