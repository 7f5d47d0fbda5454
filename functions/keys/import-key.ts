import { defineOperation } from '#lib/http/operation';
import { importKeyBody } from '#lib/keys/schemas';

export const handler = defineOperation('ImportKey', { body: importKeyBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: await services.keys.import(at, name, body),
}));
