import { selectiveKeyRestoreRequest } from '#lib/hsm/pool-backup-schemas';
import { backupJobBody, backupJobHeaders } from '#lib/hsm/pool-backup-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation(
  'HsmSelectiveKeyRestore',
  { body: selectiveKeyRestoreRequest, bodyRequired: true },
  async ({ pool, body, name, at, services }) => {
    const job = await services.backups.restore(pool, services.poolKeysAccess(pool, at.baseUrl), body.sasTokenParameters, body.folder, name);
    return { status: 202, headers: backupJobHeaders(at.baseUrl, job), body: backupJobBody(job) };
  },
);
