import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('BackupKey', {}, async ({ at, name, services }) => ({ body: await services.keys.backup(at, name) }));
