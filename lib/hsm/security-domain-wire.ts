import type { SecurityDomainOperationStatus } from './pools.ts';

/** SecurityDomainOperationStatus (securitydomain.json): `{status, status_details}`. */
export function securityDomainStatusBody(status: SecurityDomainOperationStatus) {
  return { status: status.status, status_details: status.statusDetails };
}
