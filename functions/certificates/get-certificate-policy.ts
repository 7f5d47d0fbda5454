import { certificatesOperation } from '#lib/runtime/certificates';
import { certificatePolicyWire } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificatePolicy', {}, async ({ at, name, services }) => ({
  body: certificatePolicyWire(at, name, await services.certificates.getPolicy(at, name)),
}));
