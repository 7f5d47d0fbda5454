import { defineOperation } from '#lib/http/operation';
import { updateKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('UpdateKey', { body: updateKeyBody }, async ({ at, name, version, body, services }) => ({
  body: await services.keys.update(at, name, version, body),
}));
