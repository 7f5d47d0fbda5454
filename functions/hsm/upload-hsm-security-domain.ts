import { securityDomainUploadRequest } from '#lib/hsm/security-domain-schemas';
import { securityDomainStatusBody } from '#lib/hsm/security-domain-wire';
import { hsmSecurityDomainOperation } from '#lib/runtime/hsm-security-domain';

export const handler = hsmSecurityDomainOperation(
  'UploadHsmSecurityDomain',
  { body: securityDomainUploadRequest, bodyRequired: true },
  async ({ pool, body, at, services }) => ({
    status: 202,
    // The upload is done within this request: its status, polled there, is already final.
    headers: { 'Azure-AsyncOperation': `${at.baseUrl}/securitydomain/upload/pending` },
    body: securityDomainStatusBody(await services.securityDomain.upload(pool, body.value)),
  }),
);
