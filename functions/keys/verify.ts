import { defineOperation } from '#lib/http/operation';
import { verifyBody } from '#lib/keys/schemas';

export const handler = defineOperation('Verify', { body: verifyBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.operate(at, name, version, 'verify', body),
}));
