import { roleDefinitionBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('GetRoleDefinition', {}, async ({ management, roleDefinitionId, services }) => ({
  body: roleDefinitionBody(management.scope, await services.roleDefinitions.get(management.scope, roleDefinitionId ?? '')),
}));
