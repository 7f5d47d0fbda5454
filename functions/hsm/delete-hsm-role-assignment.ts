import { hsmRoleAssignmentBody } from '#lib/hsm/rbac-wire';
import { hsmOperation } from '#lib/runtime/hsm';

/** 200 with the deleted assignment; 404 RoleAssignmentNotFound when there is none of that name at the scope. */
export const handler = hsmOperation('DeleteHsmRoleAssignment', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleAssignmentBody(await services.rbacManagement.deleteAssignment(pool.name, principal, scope, name ?? '', requestId)),
}));
