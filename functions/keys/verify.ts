import { keysOperation } from '#lib/runtime/keys';
import { keyOperationResult } from '#lib/keys/wire';
import { verifyBody } from '#lib/keys/schemas';

export const handler = keysOperation('Verify', { body: verifyBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: keyOperationResult(at, await services.keys.operate(at, name, version, 'verify', body)),
}));
