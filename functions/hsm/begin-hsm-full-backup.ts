import { backupRequest } from '#lib/hsm/pool-backup-schemas';
import { backupJobBody, backupJobHeaders } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation('HsmFullBackup', { body: backupRequest, bodyRequired: true }, async ({ pool, body, at, services }) => {
  // The backup runs within this request (docs/adr/0025): its status, polled there, is already final.
  const job = await services.backups.backup(pool, services.poolKeysAccess(pool, at.baseUrl), body);
  return { status: 202, headers: backupJobHeaders(at.baseUrl, job), body: backupJobBody(job) };
});
