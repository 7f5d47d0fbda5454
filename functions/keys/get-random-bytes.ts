import { keysOperation } from '#lib/runtime/keys';
import { randomBytesBody } from '#lib/keys/schemas';

export const handler = keysOperation('GetRandomBytes', { body: randomBytesBody, bodyRequired: true }, async ({ body, services }) => ({
  body: await services.keys.randomBytes(body.count),
}));
