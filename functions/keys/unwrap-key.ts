import { defineOperation } from '#lib/http/operation';
import { keyOperationBody } from '#lib/keys/schemas';

export const handler = defineOperation('UnwrapKey', { body: keyOperationBody, bodyRequired: true }, async ({ at, params, body, services }) => {
  const result = await services.keys.operate(at, params.name!, params.version, 'unwrapKey', body);
  return { body: result, objectId: `${at.baseUrl}/keys/${params.name}${params.version ? `/${params.version}` : ''}` };
});
