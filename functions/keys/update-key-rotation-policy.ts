import { keysOperation } from '#lib/runtime/keys';
import { rotationPolicyWire } from '#lib/keys/wire';
import { rotationPolicyBody } from '#lib/keys/schemas';

export const handler = keysOperation(
  'UpdateKeyRotationPolicy',
  { body: rotationPolicyBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({ body: rotationPolicyWire(at, await services.keys.setRotationPolicy(at, name, body)) }),
);
