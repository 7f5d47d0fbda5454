import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';

export const handler = certificatesOperation('RecoverDeletedCertificate', {}, async ({ at, name, services }) => ({
  body: certificateBundle(at, await services.certificates.recover(at, name)),
}));
