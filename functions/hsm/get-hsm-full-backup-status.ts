import { backupJobBody } from '#lib/hsm/pool-backup-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('HsmFullBackupStatus', {}, async ({ pool, jobId, services }) => ({
  body: backupJobBody(await services.backups.job(pool, 'backup', jobId)),
}));
