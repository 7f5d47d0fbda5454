import { createHash } from 'node:crypto';
import { actionMatches } from '../access/decide.ts';
import type { RoleDefinition, RolePermissions } from '../access/roles.ts';
import { normalizeScope, scopeCovers } from '../access/scopes.ts';
import type { Principal } from '../auth/principal.ts';
import { BadParameter, Conflict, NotFound } from '../core/errors.ts';
import { printable } from '../core/names.ts';
import {
  assignedRole,
  HSM_ROOT_SCOPE,
  type HsmRbac,
  type HsmRbacStore,
  type HsmRoleAssignment,
  hsmRoleDefinitionId,
  hsmScope,
  isHsmLevel,
} from './rbac.ts';
import type { HsmRoleAssignmentInput, HsmRoleDefinitionInput } from './rbac-schemas.ts';
import { HSM_DATA_ACTION_PREFIX, HSM_DATA_ACTIONS, hsmBuiltInRole, hsmBuiltInRoles, hsmRoleIds } from './roles.ts';

/**
 * A pool's role assignments and role definitions as its data plane manages them (rbac.json). Managing
 * roles is itself decided by the pool's RBAC: each call asks HsmRbac for its DataAction
 * (roleAssignments/write/action, roleDefinitions/read/action, ...) at the scope it names, after the
 * path's own syntax is checked and before anything is read. Messages follow Managed HSM's where its
 * answers are known (docs/adr/0021-managed-hsm-local-rbac.md).
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_DEFINITION_ID = /^\/?Microsoft\.KeyVault\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;
const BUILT_IN_NAME = 'Cannot re-use the name/GUID matching that of a built-in role. Please use a unique role ID.';

export class HsmRbacManagement {
  constructor(
    private readonly store: HsmRbacStore,
    private readonly rbac: HsmRbac,
  ) {}

  /** PUT: the assignment (201), also when the same one is written again; a name cannot be reused for another. */
  async createAssignment(
    pool: string,
    caller: Principal,
    rawScope: string,
    name: string,
    body: HsmRoleAssignmentInput,
    activityId?: string,
  ): Promise<HsmRoleAssignment> {
    const scope = hsmScope(rawScope);
    if (!GUID.test(name)) throw new BadParameter('Role assignment name must be a GUID');
    await this.rbac.authorize(pool, caller, 'roleAssignments/write/action', scope, activityId);
    const { roleDefinitionId, principalId } = body.properties;
    const role = ROLE_DEFINITION_ID.exec(roleDefinitionId)?.[1];
    if (!role || !GUID.test(role)) {
      throw new BadParameter(
        `The role definition id '${printable(roleDefinitionId)}' is not valid: it is 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{guid}'.`,
      );
    }
    const definition = await this.rbac.definition(pool, role);
    if (!definition) throw new BadParameter(`The role definition '${role}' does not exist in this managed HSM.`);
    if (!definition.assignableScopes.some((assignable) => scopeCovers(assignable, scope))) {
      throw new BadParameter(
        `The role definition '${role}' cannot be assigned at scope '${scope}': its assignable scopes are ${definition.assignableScopes.join(', ')}.`,
      );
    }
    if (!GUID.test(principalId)) throw new BadParameter(`The principal id '${printable(principalId)}' is not valid: it is an object id (a GUID).`);
    const assignment: HsmRoleAssignment = {
      name: name.toLowerCase(),
      scope,
      roleDefinitionId: hsmRoleDefinitionId(role),
      principalId: principalId.toLowerCase(),
    };
    if (!(await this.store.createAssignment(pool, assignment))) {
      const existing = await this.store.getAssignment(pool, assignment.name);
      if (existing && sameAssignment(existing, assignment)) return existing;
      throw new Conflict(`The role assignment '${assignment.name}' exists with another role, principal or scope: role assignments are not updated.`);
    }
    this.rbac.forget(pool, assignment.principalId);
    return assignment;
  }

  async getAssignment(pool: string, caller: Principal, rawScope: string, name: string, activityId?: string): Promise<HsmRoleAssignment> {
    const scope = hsmScope(rawScope);
    await this.rbac.authorize(pool, caller, 'roleAssignments/read/action', scope, activityId);
    return this.assignmentAt(pool, scope, name);
  }

  /** DELETE: the deleted assignment (200); 404 when there is none of that name at the scope. */
  async deleteAssignment(pool: string, caller: Principal, rawScope: string, name: string, activityId?: string): Promise<HsmRoleAssignment> {
    const scope = hsmScope(rawScope);
    await this.rbac.authorize(pool, caller, 'roleAssignments/delete/action', scope, activityId);
    const found = await this.assignmentAt(pool, scope, name);
    await this.store.deleteAssignment(pool, found);
    this.rbac.forget(pool, found.principalId);
    return found;
  }

  /**
   * The assignments that apply at the scope: those at it and at the HSM level (without a filter, as
   * with `atScope()`: a listing at `/` or `/keys` never shows a key's own); `principalId eq '{id}'`
   * narrows them to one principal and adds its assignments below the scope.
   */
  async listAssignments(pool: string, caller: Principal, rawScope: string, filter: string | undefined, activityId?: string) {
    const scope = hsmScope(rawScope);
    const wanted = parseAssignmentFilter(filter);
    await this.rbac.authorize(pool, caller, 'roleAssignments/read/action', scope, activityId);
    const applies = (a: HsmRoleAssignment) => isHsmLevel(a.scope) || normalizeScope(a.scope) === normalizeScope(scope);
    const all = await this.store.assignments(pool);
    if (wanted.principalId === undefined) return all.filter(applies);
    const below = (a: HsmRoleAssignment) => isHsmLevel(scope) || applies(a);
    return all.filter((a) => a.principalId === wanted.principalId && below(a));
  }

  /** PUT: a custom role (201), created or replaced; only at `/`, never a built-in role's GUID. */
  async putDefinition(
    pool: string,
    caller: Principal,
    rawScope: string,
    name: string,
    body: HsmRoleDefinitionInput,
    activityId?: string,
  ): Promise<RoleDefinition> {
    definitionRoot(rawScope, false);
    if (!GUID.test(name)) throw new BadParameter('Role definition name must be a GUID');
    if (hsmBuiltInRole(name)) throw new BadParameter(BUILT_IN_NAME);
    await this.rbac.authorize(pool, caller, 'roleDefinitions/write/action', HSM_ROOT_SCOPE, activityId);
    const { properties } = body;
    if (properties.type != null && properties.type !== 'CustomRole') {
      throw new BadParameter(`The role definition type '${printable(properties.type)}' is not valid: a role definition written is a 'CustomRole'.`);
    }
    const definition: RoleDefinition = {
      name: name.toLowerCase(),
      roleName: properties.roleName ?? '',
      description: properties.description ?? '',
      roleType: 'CustomRole',
      permissions: (properties.permissions ?? []).map(customPermissions),
      assignableScopes: (properties.assignableScopes ?? [HSM_ROOT_SCOPE]).map(assignableScope),
    };
    await this.store.putRoleDefinition(pool, definition);
    this.rbac.forget(pool);
    return definition;
  }

  async getDefinition(pool: string, caller: Principal, rawScope: string, name: string, activityId?: string): Promise<RoleDefinition> {
    definitionRoot(rawScope, true);
    await this.rbac.authorize(pool, caller, 'roleDefinitions/read/action', HSM_ROOT_SCOPE, activityId);
    return this.definitionNamed(pool, name);
  }

  /** DELETE: the deleted custom role (200); a built-in role is a 400, an assigned one a 409. */
  async deleteDefinition(pool: string, caller: Principal, rawScope: string, name: string, activityId?: string): Promise<RoleDefinition> {
    definitionRoot(rawScope, false);
    if (hsmBuiltInRole(name)) throw new BadParameter(BUILT_IN_NAME);
    await this.rbac.authorize(pool, caller, 'roleDefinitions/delete/action', HSM_ROOT_SCOPE, activityId);
    const found = await this.definitionNamed(pool, name);
    if ((await this.store.assignments(pool)).some((a) => assignedRole(a) === found.name)) {
      throw new Conflict(`The role definition '${found.name}' is assigned: delete its role assignments first.`);
    }
    await this.store.deleteRoleDefinition(pool, found.name);
    this.rbac.forget(pool);
    return found;
  }

  /** The built-in roles, then the pool's custom roles; `roleName eq '{name}'` picks by name, `atScope()` and `atScopeAndBelow()` change nothing (every role is at `/`). */
  async listDefinitions(
    pool: string,
    caller: Principal,
    rawScope: string,
    filter: string | undefined,
    activityId?: string,
  ): Promise<RoleDefinition[]> {
    definitionRoot(rawScope, true);
    const roleName = parseDefinitionFilter(filter);
    await this.rbac.authorize(pool, caller, 'roleDefinitions/read/action', HSM_ROOT_SCOPE, activityId);
    const all = [...hsmBuiltInRoles, ...(await this.store.roleDefinitions(pool))];
    return roleName === undefined ? all : all.filter((d) => d.roleName.toLowerCase() === roleName);
  }

  private async assignmentAt(pool: string, scope: string, name: string): Promise<HsmRoleAssignment> {
    const found = GUID.test(name) ? await this.store.getAssignment(pool, name) : undefined;
    if (!found || normalizeScope(found.scope) !== normalizeScope(scope))
      throw new NotFound('RoleAssignmentNotFound', 'Requested role assignment not found');
    return found;
  }

  private async definitionNamed(pool: string, name: string): Promise<RoleDefinition> {
    const found = hsmBuiltInRole(name) ?? (GUID.test(name) ? await this.store.getRoleDefinition(pool, name) : undefined);
    if (!found) throw new NotFound('RoleDefinitionNotFound', 'Requested role definition not found');
    return found;
  }
}

/**
 * A new pool's initial administrators hold Managed HSM Administrator at `/` from its creation. Each
 * assignment's name is derived from the pool and the object id, so a creation retried writes the same
 * ones again instead of adding others.
 */
export async function grantInitialAdministrators(
  store: Pick<HsmRbacStore, 'createAssignment'>,
  pool: string,
  objectIds: readonly string[],
): Promise<void> {
  for (const objectId of objectIds) {
    const principalId = objectId.toLowerCase();
    await store.createAssignment(pool, {
      name: nameFrom(`${pool.toLowerCase()}|${principalId}`),
      scope: HSM_ROOT_SCOPE,
      roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.administrator),
      principalId,
    });
  }
}

/** A GUID-shaped name from a digest of the text. */
function nameFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function sameAssignment(a: HsmRoleAssignment, b: HsmRoleAssignment): boolean {
  return normalizeScope(a.scope) === normalizeScope(b.scope) && a.principalId === b.principalId && assignedRole(a) === assignedRole(b);
}

/** Role definitions live at `/`; reading them at `/keys` (the HSM level too) answers the same. */
function definitionRoot(rawScope: string, reading: boolean): void {
  const scope = hsmScope(rawScope);
  if (scope === HSM_ROOT_SCOPE || (reading && isHsmLevel(scope))) return;
  throw new BadParameter(`The scope '${printable(rawScope)}' is not valid for role definitions: Managed HSM only supports '/'.`);
}

function assignableScope(raw: string): string {
  const scope = hsmScope(raw);
  if (!isHsmLevel(scope))
    throw new BadParameter(`The assignable scope '${printable(raw)}' is not valid: a custom role is assignable at '/' or '/keys'.`);
  return scope;
}

/** A custom role grants a pool's DataActions only; each must name (or, with `*`, match) one the pool knows. */
function customPermissions(p: NonNullable<HsmRoleDefinitionInput['properties']['permissions']>[number]): RolePermissions {
  if ((p.actions ?? []).length > 0 || (p.notActions ?? []).length > 0) {
    throw new BadParameter("A managed HSM's role definitions grant DataActions only: 'actions' and 'notActions' must be empty.");
  }
  const dataActions = (p.dataActions ?? []).map(knownDataAction);
  const notDataActions = (p.notDataActions ?? []).map(knownDataAction);
  return { actions: [], notActions: [], dataActions, notDataActions };
}

const KNOWN = HSM_DATA_ACTIONS.map((a) => HSM_DATA_ACTION_PREFIX + a);

function knownDataAction(action: string): string {
  if (KNOWN.some((known) => actionMatches(action, known))) return action;
  throw new BadParameter(
    `The data action '${printable(action)}' is not valid: it names none of a managed HSM's data actions ('${HSM_DATA_ACTION_PREFIX}...').`,
  );
}

/** `atScope()`, `principalId eq '{object id}'`, or both joined by `and`. */
function parseAssignmentFilter(filter: string | undefined): { principalId?: string } {
  const result: { principalId?: string } = {};
  if (filter === undefined || filter.trim() === '') return result;
  for (const term of filter.trim().split(/\s+and\s+/i)) {
    const principal = /^principalId\s+eq\s+'([^']*)'$/i.exec(term);
    if (principal?.[1] !== undefined && GUID.test(principal[1])) result.principalId = principal[1].toLowerCase();
    else if (!/^atScope\(\)$/i.test(term)) {
      throw new BadParameter(
        `The filter '${printable(filter)}' is not supported: role assignments are filtered by atScope() or principalId eq '{object id}'.`,
      );
    }
  }
  return result;
}

/** `atScope()`, `atScopeAndBelow()`, `roleName eq '{name}'`, joined by `and`: the role name wanted, lowercased. */
function parseDefinitionFilter(filter: string | undefined): string | undefined {
  let roleName: string | undefined;
  if (filter === undefined || filter.trim() === '') return roleName;
  for (const term of filter.trim().split(/\s+and\s+/i)) {
    const named = /^roleName\s+eq\s+'([^']*)'$/i.exec(term);
    if (named?.[1] !== undefined) roleName = named[1].toLowerCase();
    else if (!/^atScope(?:AndBelow)?\(\)$/i.test(term)) {
      throw new BadParameter(
        `The filter '${printable(filter)}' is not supported: role definitions are filtered by atScope(), atScopeAndBelow() or roleName eq '{name}'.`,
      );
    }
  }
  return roleName;
}
