import { securityDomainDownloadRequest } from '#lib/hsm/security-domain-schemas';
import { hsmSecurityDomainOperation } from '#lib/runtime/hsm-security-domain';

export const handler = hsmSecurityDomainOperation(
  'DownloadHsmSecurityDomain',
  { body: securityDomainDownloadRequest, bodyRequired: true },
  async ({ pool, body, at, services }) => ({
    status: 202,
    // The download is done within this request: its status, polled there, is already final.
    headers: { 'Azure-AsyncOperation': `${at.baseUrl}/securitydomain/download/pending` },
    body: await services.securityDomain.download(pool, { certificates: body.certificates, required: body.required ?? 2 }),
  }),
);
