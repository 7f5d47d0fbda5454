import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('DeleteKey', {}, async ({ at, name, services }) => ({ body: await services.keys.delete(at, name) }));
