import { certificatesOperation } from '#lib/runtime/certificates';
import { certificatePolicyWire } from '#lib/certificates/wire';
import { certificatePolicyInput } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'UpdateCertificatePolicy',
  { body: certificatePolicyInput, bodyRequired: true },
  async ({ at, name, body, services }) => ({ body: certificatePolicyWire(at, name, await services.certificates.updatePolicy(at, name, body)) }),
);
