import { certificatesOperation } from '#lib/runtime/certificates';
import { contactsWire } from '#lib/certificates/wire';
import { contactsBody } from '#lib/certificates/schemas';

export const handler = certificatesOperation(
  'SetCertificateContacts',
  { body: contactsBody, bodyRequired: true },
  async ({ at, body, services }) => ({
    body: contactsWire(at, await services.certificates.setContacts(at, body)),
  }),
);
