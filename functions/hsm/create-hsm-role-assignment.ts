import { hsmRoleAssignmentRequest } from '#lib/hsm/rbac-schemas';
import { hsmRoleAssignmentBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** RoleAssignments_Create on a pool: 201 with the assignment, also when the same one is written again. */
export const handler = hsmRbacOperation(
  'CreateHsmRoleAssignment',
  { body: hsmRoleAssignmentRequest, bodyRequired: true },
  async ({ pool, scope, name, body, principal, requestId, services }) => ({
    status: 201,
    body: hsmRoleAssignmentBody(await services.rbacManagement.createAssignment(pool.name, principal, scope, name ?? '', body, requestId)),
  }),
);
