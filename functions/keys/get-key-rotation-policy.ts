import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetKeyRotationPolicy', {}, async ({ at, name, services }) => ({
  body: await services.keys.getRotationPolicy(at, name),
}));
