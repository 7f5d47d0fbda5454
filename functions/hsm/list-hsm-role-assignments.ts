import { hsmRoleAssignmentList } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** `$filter`: `atScope()`, `principalId eq '{id}'`, or both joined by `and`; one page, no nextLink. */
export const handler = hsmRbacOperation('ListHsmRoleAssignments', {}, async ({ pool, scope, query, principal, requestId, services }) => ({
  body: hsmRoleAssignmentList(await services.rbacManagement.listAssignments(pool.name, principal, scope, query.$filter, requestId)),
}));
