import { certificatesOperation } from '#lib/runtime/certificates';
import { deletedCertificateBundle } from '#lib/certificates/wire';

export const handler = certificatesOperation('DeleteCertificate', {}, async ({ at, name, services }) => ({
  body: deletedCertificateBundle(at, await services.certificates.delete(at, name)),
}));
