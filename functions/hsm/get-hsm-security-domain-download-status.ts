import { securityDomainStatusBody } from '#lib/hsm/security-domain-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmSecurityDomainDownloadStatus', {}, async ({ pool, services }) => ({
  body: securityDomainStatusBody(await services.securityDomain.status(pool, 'download')),
}));
