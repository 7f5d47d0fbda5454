import { certificatesOperation } from '#lib/runtime/certificates';
import { issuerBundle } from '#lib/certificates/wire';
import { setIssuerBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'SetCertificateIssuer',
  { body: setIssuerBody, bodyRequired: true },
  async ({ at, issuerName, body, services }) => ({
    body: issuerBundle(at, await services.certificates.setIssuer(at, issuerName, body)),
  }),
);
