import { hsmRoleDefinitionBody } from '#lib/hsm/rbac-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmRoleDefinition', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleDefinitionBody(await services.rbacManagement.getDefinition(pool.name, principal, scope, name ?? '', requestId)),
}));
