import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateOperationWire } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificateOperation', {}, async ({ at, name, services }) => ({
  body: certificateOperationWire(at, await services.certificates.getOperation(at, name)),
}));
