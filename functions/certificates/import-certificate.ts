import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';
import { importCertificateBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'ImportCertificate',
  { body: importCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    body: certificateBundle(at, await services.certificates.import(at, name, body)),
  }),
);
