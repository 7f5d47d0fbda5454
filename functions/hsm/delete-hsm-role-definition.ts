import { hsmRoleDefinitionBody } from '#lib/hsm/rbac-wire';
import { hsmOperation } from '#lib/runtime/hsm';

/** 200 with the deleted custom role; a built-in role is a 400, an assigned one a 409. */
export const handler = hsmOperation('DeleteHsmRoleDefinition', {}, async ({ pool, scope, name, principal, requestId, services }) => ({
  body: hsmRoleDefinitionBody(await services.rbacManagement.deleteDefinition(pool.name, principal, scope, name ?? '', requestId)),
}));
