import { secretsOperation } from '#lib/runtime/secrets';
import { backupResult } from '#lib/objects/wire';

export const handler = secretsOperation('BackupSecret', {}, async ({ at, name, services }) => ({
  body: backupResult(await services.secrets.backup(at, name)),
}));
