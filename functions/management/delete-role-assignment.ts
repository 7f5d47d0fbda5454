import { roleAssignmentBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('DeleteRoleAssignment', {}, async ({ management, principal, roleAssignmentName, services }) => {
  const deleted = await services.roleAssignments.delete({ principal, tenantId: management.tenantId }, management.scope, roleAssignmentName ?? '');
  return deleted ? { body: roleAssignmentBody(deleted) } : { status: 204 };
});
