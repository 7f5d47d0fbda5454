import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateOperationWire } from '#lib/certificates/wire';
import { updateCertificateOperationBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'UpdateCertificateOperation',
  { body: updateCertificateOperationBody, bodyRequired: true },
  async ({ at, name, body, services }) => ({ body: certificateOperationWire(at, await services.certificates.updateOperation(at, name, body)) }),
);
