import { certificatesOperation } from '#lib/runtime/certificates';
import { backupResult } from '#lib/objects/wire';

export const handler = certificatesOperation('BackupCertificate', {}, async ({ at, name, services }) => ({
  body: backupResult(await services.certificates.backup(at, name)),
}));
