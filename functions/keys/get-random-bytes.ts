import { keysOperation } from '#lib/runtime/keys';
import { randomBytesResult } from '#lib/keys/wire';
import { randomBytesBody } from '#lib/keys/schemas';

export const handler = keysOperation('GetRandomBytes', { body: randomBytesBody, bodyRequired: true }, async ({ body, services }) => ({
  body: randomBytesResult(await services.keys.randomBytes(body.count)),
}));
