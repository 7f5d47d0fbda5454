import { hsmRoleDefinitionList } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** The built-in roles, then the pool's custom ones; `$filter`: `roleName eq '{name}'`, `atScope()`, `atScopeAndBelow()`. */
export const handler = hsmRbacOperation('ListHsmRoleDefinitions', {}, async ({ pool, scope, query, principal, requestId, services }) => ({
  body: hsmRoleDefinitionList(await services.rbacManagement.listDefinitions(pool.name, principal, scope, query.$filter, requestId)),
}));
