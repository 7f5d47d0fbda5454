import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetKeyAttestation', {}, async ({ services }) => services.keys.getAttestation());
