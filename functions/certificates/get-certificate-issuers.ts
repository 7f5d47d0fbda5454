import { certificatesOperation } from '#lib/runtime/certificates';
import { issuerItemPage } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificateIssuers', {}, async ({ at, page, services }) => ({
  page: issuerItemPage(at, await services.certificates.listIssuers(at, page.limit, page.cursor)),
}));
