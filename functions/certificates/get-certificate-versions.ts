import { certificatesOperation } from '#lib/runtime/certificates';
import { certificateItemPage } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificateVersions', {}, async ({ at, name, page, services }) => ({
  page: certificateItemPage(at, await services.certificates.listVersions(at, name, page.limit, page.cursor), true),
}));
