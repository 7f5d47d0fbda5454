import { defineOperation } from '#lib/http/operation';
import { backupResult } from '#lib/objects/wire';

export const handler = defineOperation('BackupSecret', {}, async ({ at, name, services }) => ({
  body: backupResult(await services.secrets.backup(at, name)),
}));
