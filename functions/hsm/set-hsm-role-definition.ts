import { hsmRoleDefinitionRequest } from '#lib/hsm/rbac-schemas';
import { hsmRoleDefinitionBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** RoleDefinitions_CreateOrUpdate on a pool: a custom role at `/`, created or replaced, 201. */
export const handler = hsmRbacOperation(
  'SetHsmRoleDefinition',
  { body: hsmRoleDefinitionRequest, bodyRequired: true },
  async ({ pool, scope, name, body, principal, requestId, services }) => ({
    status: 201,
    body: hsmRoleDefinitionBody(await services.rbacManagement.putDefinition(pool.name, principal, scope, name ?? '', body, requestId)),
  }),
);
