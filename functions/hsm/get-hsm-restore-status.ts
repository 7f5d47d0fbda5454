import { backupJobBody } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation('HsmRestoreStatus', {}, async ({ pool, jobId, services }) => ({
  body: backupJobBody(await services.backups.job(pool, 'restore', jobId)),
}));
