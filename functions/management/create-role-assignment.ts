import { createRoleAssignmentBody } from '#lib/access/schemas';
import { roleAssignmentBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'CreateRoleAssignment',
  { body: createRoleAssignmentBody, bodyRequired: true },
  async ({ management, principal, roleAssignmentName, body, services }) => {
    const caller = { principal, tenantId: management.tenantId };
    const { created, assignment } = await services.roleAssignments.create(caller, management.scope, roleAssignmentName ?? '', body);
    return { status: created ? 201 : 200, body: roleAssignmentBody(assignment) };
  },
);
