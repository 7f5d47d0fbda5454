import { roleDefinitionBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('DeleteRoleDefinition', {}, async ({ management, roleDefinitionId, services }) => {
  const deleted = await services.roleDefinitions.delete(management.scope, roleDefinitionId ?? '');
  return deleted ? { body: roleDefinitionBody(management.scope, deleted) } : { status: 204 };
});
