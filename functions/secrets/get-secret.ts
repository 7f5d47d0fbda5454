import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetSecret', {}, async ({ at, params, services }) => {
  const bundle = await services.secrets.get(at, params.name!, params.version);
  return { body: bundle, objectId: bundle.id };
});
