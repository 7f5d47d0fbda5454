import { PoolSecurityDomain } from '../hsm/pool-security-domain.ts';
import { hsmOperations } from './hsm.ts';
import { tokenPoolHsm } from './pool-tokens.ts';

/** The composition root of a pool's security domain: its download, transfer key, upload and their statuses (docs/adr/0022). */
export interface HsmSecurityDomainServices {
  securityDomain: PoolSecurityDomain;
}

/** `hsmSecurityDomainOperation('DownloadHsmSecurityDomain', schemas, run)`: a pool's security domain handler. */
export const hsmSecurityDomainOperation = hsmOperations<HsmSecurityDomainServices>((_shared, plane) => ({
  securityDomain: new PoolSecurityDomain(plane.poolStore, tokenPoolHsm, (name) => plane.pools.forget(name)),
}));
