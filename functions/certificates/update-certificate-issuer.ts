import { certificatesOperation } from '#lib/runtime/certificates';
import { issuerBundle } from '#lib/certificates/wire';
import { updateIssuerBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'UpdateCertificateIssuer',
  { body: updateIssuerBody, bodyRequired: true },
  async ({ at, issuerName, body, services }) => ({ body: issuerBundle(at, await services.certificates.updateIssuer(at, issuerName, body)) }),
);
