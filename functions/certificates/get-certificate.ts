import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateBundle } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificate', {}, async ({ at, name, version, services }) => ({
  body: certificateBundle(at, await services.certificates.get(at, name, version)),
}));
