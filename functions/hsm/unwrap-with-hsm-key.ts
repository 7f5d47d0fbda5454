import { keyOperationBody } from '#lib/keys/schemas';
import { keyOperationResult } from '#lib/keys/wire';
import { hsmCryptoOperation } from '#lib/runtime/hsm-key-crypto';

export const handler = hsmCryptoOperation(
  'UnwrapWithHsmKey',
  { body: keyOperationBody, bodyRequired: true },
  async ({ at, name, version, body, keys }) => ({
    body: keyOperationResult(at, await keys.operate(at, name, version, 'unwrapKey', body)),
  }),
);
