import { hsmRoleAssignmentBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** 200 with the deleted assignment; 404 RoleAssignmentNotFound when there is none of that name at the scope. */
export const handler = hsmRbacOperation('DeleteHsmRoleAssignment', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleAssignmentBody(await services.rbacManagement.deleteAssignment(pool.name, principal, scope, name ?? '', requestId)),
}));
