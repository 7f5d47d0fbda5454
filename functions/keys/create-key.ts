import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';
import { createKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('CreateKey', { body: createKeyBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: keyBundle(at, await services.keys.create(at, name, body)),
}));
