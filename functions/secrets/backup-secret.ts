import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('BackupSecret', {}, async ({ at, name, services }) => ({ body: await services.secrets.backup(at, name) }));
