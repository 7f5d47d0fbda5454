import { keyOperationBody } from '#lib/keys/schemas';
import { keyOperationResult } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm';

export const handler = hsmKeyOperation(
  'WrapWithHsmKey',
  { body: keyOperationBody, bodyRequired: true },
  async ({ at, name, version, body, keys }) => ({
    body: keyOperationResult(at, await keys.operate(at, name, version, 'wrapKey', body)),
  }),
);
