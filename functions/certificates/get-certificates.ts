import { certificatesOperation, includePending } from '#lib/runtime/certificates';
import { certificateItemPage } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetCertificates', {}, async ({ at, page, query, services }) => ({
  page: certificateItemPage(at, await services.certificates.list(at, page.limit, page.cursor, includePending(query))),
}));
