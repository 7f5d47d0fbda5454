import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmSecurityDomainTransferKey', {}, async ({ pool, services }) => ({
  body: await services.securityDomain.transferKey(pool),
}));
