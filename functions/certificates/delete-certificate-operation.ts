import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateOperationWire } from '#lib/certificates/wire';

export const handler = certificatesOperation('DeleteCertificateOperation', {}, async ({ at, name, services }) => ({
  body: certificateOperationWire(at, await services.certificates.deleteOperation(at, name)),
}));
