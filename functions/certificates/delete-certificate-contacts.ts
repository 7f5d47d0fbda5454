import { certificatesOperation } from '#lib/runtime/certificates';
import { contactsWire } from '#lib/certificates/wire';

export const handler = certificatesOperation('DeleteCertificateContacts', {}, async ({ at, services }) => ({
  body: contactsWire(at, await services.certificates.deleteContacts(at)),
}));
