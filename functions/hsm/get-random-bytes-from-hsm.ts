import { randomBytesBody } from '#lib/keys/schemas';
import { randomBytesResult } from '#lib/keys/wire';
import { hsmCryptoOperation } from '#lib/runtime/hsm-key-crypto';

export const handler = hsmCryptoOperation('GetRandomBytesFromHsm', { body: randomBytesBody, bodyRequired: true }, async ({ body, keys }) => ({
  body: randomBytesResult(await keys.randomBytes(body.count)),
}));
