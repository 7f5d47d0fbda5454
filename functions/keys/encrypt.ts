import { defineOperation } from '#lib/http/operation';
import { keyOperationBody } from '#lib/keys/schemas';

export const handler = defineOperation('Encrypt', { body: keyOperationBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.operate(at, name, version, 'encrypt', body),
}));
