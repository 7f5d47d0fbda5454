import { defineOperation } from '#lib/http/operation';
import { rotationPolicyBody } from '#lib/keys/schemas';

export const handler = defineOperation(
  'UpdateKeyRotationPolicy',
  { body: rotationPolicyBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({ body: await services.keys.setRotationPolicy(at, name, body) }),
);
