import { certificateIssuanceOperation } from '#lib/runtime/certificate-issuance';
import { certificateBundle } from '#lib/certificates/wire';
import { mergeCertificateBody } from '#lib/certificates/schemas';

export const handler = certificateIssuanceOperation(
  'MergeCertificate',
  { body: mergeCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    status: 201,
    body: certificateBundle(at, await services.issuance.merge(at, name, body)),
  }),
);
