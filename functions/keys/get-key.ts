import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKey', {}, async ({ at, name, version, services }) => ({
  body: await services.keys.get(at, name, version),
}));
