import { keysOperation } from '#lib/runtime/keys';
import { keyBundle } from '#lib/keys/wire';
import { updateKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('UpdateKey', { body: updateKeyBody }, async ({ at, name, version, body, services }) => ({
  body: keyBundle(at, await services.keys.update(at, name, version, body)),
}));
