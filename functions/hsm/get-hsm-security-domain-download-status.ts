import { securityDomainStatusBody } from '#lib/hsm/security-domain-wire';
import { hsmSecurityDomainOperation } from '#lib/runtime/hsm-security-domain';

export const handler = hsmSecurityDomainOperation('GetHsmSecurityDomainDownloadStatus', {}, async ({ pool, services }) => ({
  body: securityDomainStatusBody(await services.securityDomain.status(pool, 'download')),
}));
