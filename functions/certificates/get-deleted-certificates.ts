import { certificatesOperation, includePending } from '#lib/runtime/certificates';
import { deletedCertificateItemPage } from '#lib/certificates/wire';

export const handler = certificatesOperation('GetDeletedCertificates', {}, async ({ at, page, query, services }) => {
  // Azure takes `includePending` here too; a deleted certificate is listed whatever its operation's state,
  // so the value is only checked, as GetCertificates checks it.
  includePending(query);
  return { page: deletedCertificateItemPage(at, await services.certificates.listDeleted(at, page.limit, page.cursor)) };
});
