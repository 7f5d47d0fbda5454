import { defineOperation } from '#lib/http/operation';
import { createKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('CreateKey', { body: createKeyBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: await services.keys.create(at, name, body),
}));
