import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';
import { importKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('ImportKey', { body: importKeyBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: keyBundle(at, await services.keys.import(at, name, body)),
}));
