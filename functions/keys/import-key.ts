import { defineOperation } from '#lib/http/operation';
import { importKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('ImportKey', { body: importKeyBody, bodyRequired: true }, async ({ at, params, body, services }) => {
  const bundle = await services.keys.import(at, params.name!, body);
  return { body: bundle, objectId: bundle.key.kid };
});
