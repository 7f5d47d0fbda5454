import { keysOperation } from '#lib/runtime/keys';
import { keyOperationResult } from '#lib/keys/wire';
import { keyOperationBody } from '#lib/keys/schemas';

export const handler = keysOperation('UnwrapKey', { body: keyOperationBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: keyOperationResult(at, await services.keys.operate(at, name, version, 'unwrapKey', body)),
}));
