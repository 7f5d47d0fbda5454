import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RecoverDeletedSecret', {}, async ({ at, params, services }) => {
  const bundle = await services.secrets.recover(at, params.name!);
  return { body: bundle, objectId: bundle.id };
});
