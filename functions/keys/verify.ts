import { defineOperation } from '#lib/http/operation';
import { verifyBody } from '#lib/keys/schemas';

export const handler = defineOperation('Verify', { body: verifyBody, bodyRequired: true }, async ({ at, params, body, services }) => ({
  body: await services.keys.operate(at, params.name!, params.version, 'verify', body),
  objectId: `${at.baseUrl}/keys/${params.name}${params.version ? `/${params.version}` : ''}`,
}));
