import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetDeletedKey', {}, async ({ at, name, services }) => ({ body: await services.keys.getDeleted(at, name) }));
