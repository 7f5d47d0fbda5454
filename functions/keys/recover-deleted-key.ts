import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('RecoverDeletedKey', {}, async ({ at, name, services }) => ({ body: await services.keys.recover(at, name) }));
