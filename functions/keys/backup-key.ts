import { keysOperation } from '#lib/runtime/keys';
import { backupResult } from '#lib/objects/wire';

export const handler = keysOperation('BackupKey', {}, async ({ at, name, services }) => ({
  body: backupResult(await services.keys.backup(at, name)),
}));
