import { defineOperation } from '#lib/http/operation';
import { keyOperationBody } from '#lib/keys/schemas';

export const handler = defineOperation('Decrypt', { body: keyOperationBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.operate(at, name, version, 'decrypt', body),
}));
