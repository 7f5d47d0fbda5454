import { hsmRoleDefinitionBody } from '#lib/hsm/rbac-wire';
import { hsmRbacOperation } from '#lib/runtime/hsm-rbac';

/** 200 with the deleted custom role; a built-in role is a 400, an assigned one a 409. */
export const handler = hsmRbacOperation('DeleteHsmRoleDefinition', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleDefinitionBody(await services.rbacManagement.deleteDefinition(pool.name, principal, scope, name ?? '', requestId)),
}));
