import { backupRequest } from '#lib/hsm/pool-backup-schemas';
import { backupJobBody, backupJobHeaders } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation('HsmPreFullBackup', { body: backupRequest, bodyRequired: true }, async ({ pool, body, at, services }) => {
  const job = await services.backups.preBackup(pool, body);
  return { status: 202, headers: backupJobHeaders(at.baseUrl, job), body: backupJobBody(job) };
});
