import { defineOperation } from '#lib/http/operation';
import { updateSecretBody } from '#lib/secrets/schemas';

export const handler = defineOperation('UpdateSecret', { body: updateSecretBody }, async ({ at, params, body, services }) => {
  const bundle = await services.secrets.update(at, params.name!, params.version, body);
  return { body: bundle, objectId: bundle.id };
});
