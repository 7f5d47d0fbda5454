import { certificatesOperation } from '#lib/runtime/certificates';

export const handler = certificatesOperation('PurgeDeletedCertificate', {}, async ({ at, name, services }) => {
  await services.certificates.purge(at, name);
  return { status: 204 };
});
