import type { RoleAssignment } from './assignments.ts';
import type { RoleDefinition } from './roles.ts';

/**
 * Role assignments and definitions as ARM answers them, field for field what @azure/arm-authorization
 * deserializes (its RoleAssignment and RoleDefinition mappers). Ids are built on the scope the
 * caller addressed, so a built-in role read at a vault has an id under that vault.
 */
export function roleAssignmentBody(a: RoleAssignment) {
  return {
    id: `${trimScope(a.scope)}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
    name: a.name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      scope: a.scope,
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      ...(a.description === undefined ? {} : { description: a.description }),
      condition: a.condition ?? null,
      conditionVersion: a.conditionVersion ?? null,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: a.createdBy,
      updatedBy: a.updatedBy,
    },
  };
}

export function roleDefinitionBody(scope: string, d: RoleDefinition) {
  return {
    id: roleDefinitionIdAt(scope, d.name),
    name: d.name,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: d.roleName,
      type: d.roleType,
      description: d.description,
      assignableScopes: d.assignableScopes,
      permissions: d.permissions.map((p) => ({
        actions: p.actions,
        notActions: p.notActions,
        dataActions: p.dataActions,
        notDataActions: p.notDataActions,
      })),
      createdOn: d.createdOn ?? null,
      updatedOn: d.updatedOn ?? null,
      createdBy: d.createdBy ?? null,
      updatedBy: d.createdBy ?? null,
    },
  };
}

/** `<scope>/providers/Microsoft.Authorization/roleDefinitions/<guid>`, for `/` too. */
function roleDefinitionIdAt(scope: string, name: string): string {
  return `${trimScope(scope)}/providers/Microsoft.Authorization/roleDefinitions/${name}`;
}

function trimScope(scope: string): string {
  return scope.replace(/\/+$/, '');
}
