import { keysOperation } from '#lib/runtime/keys';
import { rotationPolicyWire } from '#lib/keys/wire';

export const handler = keysOperation('GetKeyRotationPolicy', {}, async ({ at, name, services }) => ({
  body: rotationPolicyWire(at, await services.keys.getRotationPolicy(at, name)),
}));
