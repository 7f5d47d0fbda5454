import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('RotateKey', {}, async ({ at, name, services }) => ({ body: await services.keys.rotate(at, name) }));
