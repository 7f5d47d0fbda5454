import { restoreRequest } from '#lib/hsm/pool-backup-schemas';
import { backupJobBody, backupJobHeaders } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation('HsmPreFullRestore', { body: restoreRequest, bodyRequired: true }, async ({ pool, body, at, services }) => {
  const job = await services.backups.preRestore(pool, body.sasTokenParameters, body.folderToRestore);
  return { status: 202, headers: backupJobHeaders(at.baseUrl, job), body: backupJobBody(job) };
});
