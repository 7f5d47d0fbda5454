import { defineOperation } from '#lib/http/operation';
import { rotationPolicyBody } from '#lib/keys/schemas';

export const handler = defineOperation('UpdateKeyRotationPolicy', { body: rotationPolicyBody, bodyRequired: true }, async ({ at, params, body, services }) => ({
  body: await services.keys.setRotationPolicy(at, params.name!, body),
  objectId: `${at.baseUrl}/keys/${params.name}`,
}));
