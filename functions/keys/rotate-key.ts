import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RotateKey', {}, async ({ at, params, services }) => {
  const bundle = await services.keys.rotate(at, params.name!);
  return { body: bundle, objectId: bundle.key.kid };
});
