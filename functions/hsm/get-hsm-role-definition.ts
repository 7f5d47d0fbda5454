import { hsmRoleDefinitionBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

export const handler = hsmRbacOperation('GetHsmRoleDefinition', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleDefinitionBody(await services.rbacManagement.getDefinition(pool.name, principal, scope, name ?? '', requestId)),
}));
