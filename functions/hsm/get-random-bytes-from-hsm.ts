import { randomBytesBody } from '#lib/keys/schemas';
import { randomBytesResult } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm';

export const handler = hsmKeyOperation('GetRandomBytesFromHsm', { body: randomBytesBody, bodyRequired: true }, async ({ body, keys }) => ({
  body: randomBytesResult(await keys.randomBytes(body.count)),
}));
