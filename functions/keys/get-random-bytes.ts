import { defineOperation } from '#lib/http/operation';
import { randomBytesBody } from '#lib/keys/schemas';

export const handler = defineOperation('GetRandomBytes', { body: randomBytesBody, bodyRequired: true }, async ({ body, services }) => ({
  body: await services.keys.randomBytes(body.count),
}));
