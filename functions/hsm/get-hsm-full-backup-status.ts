import { backupJobBody } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation('HsmFullBackupStatus', {}, async ({ pool, jobId, services }) => ({
  body: backupJobBody(await services.backups.job(pool, 'backup', jobId)),
}));
