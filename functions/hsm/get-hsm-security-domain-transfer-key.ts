import { hsmSecurityDomainOperation } from '#lib/runtime/hsm-security-domain';

export const handler = hsmSecurityDomainOperation('GetHsmSecurityDomainTransferKey', {}, async ({ pool, services }) => ({
  body: await services.securityDomain.transferKey(pool),
}));
