import { createKeyBody } from '#lib/keys/schemas';
import { keyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('CreateHsmKey', { body: createKeyBody, bodyRequired: true }, async ({ at, name, body, keys }) => ({
  body: keyBundle(at, await keys.create(at, name, body)),
}));
