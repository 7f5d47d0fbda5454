import { defineOperation } from '#lib/http/operation';
import { createKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('CreateKey', { body: createKeyBody, bodyRequired: true }, async ({ at, params, body, services }) => {
  const bundle = await services.keys.create(at, params.name!, body);
  return { body: bundle, objectId: bundle.key.kid };
});
