import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';
import { restoreCertificateBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'RestoreCertificate',
  { body: restoreCertificateBody, bodyRequired: true },
  async ({ at, body, services }) => ({
    body: certificateBundle(at, await services.certificates.restore(at, body.value)),
  }),
);
