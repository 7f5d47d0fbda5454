import { selectiveKeyRestoreRequest } from '#lib/hsm/pool-backup-schemas';
import { backupJobBody, backupJobHeaders } from '#lib/hsm/pool-backup-wire';
import { hsmBackupOperation } from '#lib/runtime/hsm-backups';

export const handler = hsmBackupOperation(
  'HsmSelectiveKeyRestore',
  { body: selectiveKeyRestoreRequest, bodyRequired: true },
  async ({ pool, body, name, at, services }) => {
    const job = await services.backups.restore(pool, services.poolKeysAccess(pool, at.baseUrl), body.sasTokenParameters, body.folder, name);
    return { status: 202, headers: backupJobHeaders(at.baseUrl, job), body: backupJobBody(job) };
  },
);
