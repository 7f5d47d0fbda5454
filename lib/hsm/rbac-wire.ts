import type { RoleDefinition } from '../access/roles.ts';
import { normalizeScope } from '../access/scopes.ts';
import { type HsmRoleAssignment, hsmRoleDefinitionId } from './rbac.ts';

/**
 * A pool's role assignments and definitions as Managed HSM answers them (rbac.json; field for field
 * what the Python KeyVaultRoleAssignment and KeyVaultRoleDefinition read): an assignment's id is its
 * scope's path (`/providers/...` at `/`, `/keys/providers/...` at `/keys`), a definition's id is
 * `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{guid}` wherever it is read,
 * and a built-in role's type is `AKVBuiltInRole`. Lists carry no nextLink: a pool's assignments are
 * answered in one page.
 */
export function hsmRoleAssignmentBody(a: HsmRoleAssignment) {
  const path = normalizeScope(a.scope) === '' ? '' : a.scope.replace(/\/+$/, '');
  return {
    id: `${path}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
    name: a.name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: { scope: a.scope, roleDefinitionId: a.roleDefinitionId, principalId: a.principalId },
  };
}

export function hsmRoleDefinitionBody(d: RoleDefinition) {
  return {
    id: hsmRoleDefinitionId(d.name),
    name: d.name,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: d.roleName,
      description: d.description,
      type: d.roleType === 'BuiltInRole' ? 'AKVBuiltInRole' : 'CustomRole',
      permissions: d.permissions.map((p) => ({
        actions: p.actions,
        notActions: p.notActions,
        dataActions: p.dataActions,
        notDataActions: p.notDataActions,
      })),
      assignableScopes: d.assignableScopes,
    },
  };
}

export function hsmRoleAssignmentList(assignments: readonly HsmRoleAssignment[]) {
  return { value: assignments.map(hsmRoleAssignmentBody) };
}

export function hsmRoleDefinitionList(definitions: readonly RoleDefinition[]) {
  return { value: definitions.map(hsmRoleDefinitionBody) };
}
