import { defineOperation } from '#lib/http/operation';
import { setSecretBody } from '#lib/secrets/schemas';

export const handler = defineOperation('SetSecret', { body: setSecretBody, bodyRequired: true }, async ({ at, params, body, services }) => {
  const bundle = await services.secrets.set(at, params.name!, body);
  return { body: bundle, objectId: bundle.id };
});
