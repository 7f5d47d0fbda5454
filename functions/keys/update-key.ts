import { defineOperation } from '#lib/http/operation';
import { updateKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('UpdateKey', { body: updateKeyBody }, async ({ at, params, body, services }) => {
  const bundle = await services.keys.update(at, params.name!, params.version, body);
  return { body: bundle, objectId: bundle.key.kid };
});
