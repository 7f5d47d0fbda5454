import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetSecret', {}, async ({ at, name, version, services }) => ({
  body: await services.secrets.get(at, name, version),
}));
