import { roleDefinitionBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('ListRoleDefinitions', {}, async ({ management, query, services }) => ({
  body: {
    value: (await services.roleDefinitions.list(management.scope, query.$filter)).map((d) => roleDefinitionBody(management.scope, d)),
    nextLink: null,
  },
}));
