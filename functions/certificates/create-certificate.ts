import { certificateIssuanceOperation } from '#lib/runtime/certificate-issuance';
import { certificateOperationWire } from '#lib/certificates/wire';
import { createCertificateBody } from '#lib/certificates/schemas';

// 202 with the pending operation, as Azure answers a creation: clients poll it (or merge, for issuer Unknown).
export const handler = certificateIssuanceOperation(
  'CreateCertificate',
  { body: createCertificateBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({
    status: 202,
    body: certificateOperationWire(at, await services.issuance.create(at, name, body)),
  }),
);
