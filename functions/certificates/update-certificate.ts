import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';
import { updateCertificateBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation('UpdateCertificate', { body: updateCertificateBody }, async ({ at, name, version, body, services }) => ({
  body: certificateBundle(at, await services.certificates.update(at, name, version, body)),
}));
