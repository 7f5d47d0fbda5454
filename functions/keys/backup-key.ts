import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('BackupKey', {}, async ({ at, name, services }) => ({ body: await services.keys.backup(at, name) }));
