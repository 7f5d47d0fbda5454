import { roleAssignmentBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('GetRoleAssignment', {}, async ({ management, roleAssignmentName, services }) => ({
  body: roleAssignmentBody(await services.roleAssignments.get(management.scope, roleAssignmentName ?? '')),
}));
