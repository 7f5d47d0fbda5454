import { hsmRoleAssignmentBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

export const handler = hsmRbacOperation('GetHsmRoleAssignment', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleAssignmentBody(await services.rbacManagement.getAssignment(pool.name, principal, scope, name ?? '', requestId)),
}));
