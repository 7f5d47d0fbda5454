import { keysOperation } from '#lib/runtime/keys';
import { keyOperationBody } from '#lib/keys/schemas';

export const handler = keysOperation('WrapKey', { body: keyOperationBody, bodyRequired: true }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.operate(at, name, version, 'wrapKey', body),
}));
