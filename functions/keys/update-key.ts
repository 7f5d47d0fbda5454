import { keysOperation } from '#lib/runtime/keys';
import { updateKeyBody } from '#lib/keys/schemas';

export const handler = keysOperation('UpdateKey', { body: updateKeyBody }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.update(at, name, version, body),
}));
