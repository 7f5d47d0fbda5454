import { certificateIssuanceOperation } from '#lib/runtime/certificate-issuance';
import { certificateBundle } from '#lib/certificates/wire';
import { importCertificateBody } from '#lib/certificates/schemas';

export const handler = certificateIssuanceOperation(
  'ImportCertificate',
  { body: importCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    body: certificateBundle(at, await services.issuance.import(at, name, body)),
  }),
);
