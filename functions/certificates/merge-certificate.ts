import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';
import { mergeCertificateBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'MergeCertificate',
  { body: mergeCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    status: 201,
    body: certificateBundle(at, await services.certificates.merge(at, name, body)),
  }),
);
