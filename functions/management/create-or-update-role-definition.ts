import { roleDefinitionBody as roleDefinitionInput } from '#lib/access/schemas';
import { roleDefinitionBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'CreateOrUpdateRoleDefinition',
  { body: roleDefinitionInput, bodyRequired: true },
  async ({ management, principal, roleDefinitionId, body, services }) => ({
    // ARM answers 201 to every PUT of a role definition, new or changed.
    status: 201,
    body: roleDefinitionBody(management.scope, await services.roleDefinitions.put(principal, management.scope, roleDefinitionId ?? '', body)),
  }),
);
