import { defineOperation } from '#lib/http/operation';
import { setSecretBody } from '#lib/secrets/schemas';

export const handler = defineOperation('SetSecret', { body: setSecretBody, bodyRequired: true }, async ({ at, name, body, services }) => ({
  body: await services.secrets.set(at, name, body),
}));
