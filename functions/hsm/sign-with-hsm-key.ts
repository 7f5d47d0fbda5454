import { keyOperationBody } from '#lib/keys/schemas';
import { keyOperationResult } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm';

export const handler = hsmKeyOperation(
  'SignWithHsmKey',
  { body: keyOperationBody, bodyRequired: true },
  async ({ at, name, version, body, keys }) => ({
    body: keyOperationResult(at, await keys.operate(at, name, version, 'sign', body)),
  }),
);
