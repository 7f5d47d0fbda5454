import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKeyRotationPolicy', {}, async ({ at, name, services }) => ({
  body: await services.keys.getRotationPolicy(at, name),
}));
