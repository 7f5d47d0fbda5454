import { certificatesOperation } from '#lib/runtime/certificates';
import { issuerBundle } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificateIssuer', {}, async ({ at, issuerName, services }) => ({
  body: issuerBundle(at, await services.certificates.getIssuer(at, issuerName)),
}));
