import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetKeyRotationPolicy', {}, async ({ at, params, services }) => ({
  body: await services.keys.getRotationPolicy(at, params.name!),
  objectId: `${at.baseUrl}/keys/${params.name}`,
}));
