import { hsmRoleAssignmentBody } from '#lib/hsm/rbac-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmRoleAssignment', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleAssignmentBody(await services.rbacManagement.getAssignment(pool.name, principal, scope, name ?? '', requestId)),
}));
