import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('ReleaseKey', {}, async ({ services }) => services.keys.release());
