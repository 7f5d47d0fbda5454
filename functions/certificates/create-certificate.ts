import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateOperationWire } from '#lib/certificates/wire';
import { createCertificateBody } from '#lib/certificates/schemas';

// 202 with the pending operation, as Azure answers a creation: clients poll it (or merge, for issuer Unknown).
export const handler = certificatesOperation(
  'CreateCertificate',
  { body: createCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    status: 202,
    body: certificateOperationWire(at, await services.certificates.create(at, name, body)),
  }),
);
