import { certificatesOperation } from '#lib/runtime/certificates';
import { deletedCertificateBundle } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetDeletedCertificate', {}, async ({ at, name, services }) => ({
  body: deletedCertificateBundle(at, await services.certificates.getDeleted(at, name)),
}));
