import type { Principal } from '../auth/principal.ts';
import { VaultError } from '../core/errors.ts';
import type { AccessControl } from './access-control.ts';
import { type AccessStore, type RoleAssignment, roleDefinitionName } from './assignments.ts';
import type { CreateRoleAssignmentInput } from './schemas.ts';
import { normalizeScope, scopeCovers, subscriptionOf, subscriptionScope } from './scopes.ts';

/**
 * Role assignments as Microsoft.Authorization/roleAssignments (api-version 2022-04-01) manages them.
 * The pipeline has already checked `roleAssignments/write|delete|read` at the path's scope; what is
 * left is ARM's own rules: GUID names, roles that exist and may be assigned there, a holder of Key
 * Vault Data Access Administrator granting only the roles it names, and (scope, principal, role)
 * unique. After a change this container forgets the principal's cached grants (docs/adr/0013).
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_DEFINITION_ID = /^(?:\/subscriptions\/[^/]+)?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;
const WRITE = 'Microsoft.Authorization/roleAssignments/write';
const DELETE = 'Microsoft.Authorization/roleAssignments/delete';

/** Who asks, where: the management input's `principal` and `management`. */
export interface Caller {
  principal: Principal;
  tenantId: string;
}

export interface AssignmentPage {
  value: RoleAssignment[];
  /** The skip token of the next page, if there is one. */
  next?: string;
}

export class RoleAssignments {
  constructor(
    private readonly store: AccessStore,
    private readonly access: AccessControl,
    private readonly pageSize = 100,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** PUT: 201 with a new assignment, 200 when the same one is written again. */
  async create(
    caller: Caller,
    scope: string,
    name: string,
    body: CreateRoleAssignmentInput,
  ): Promise<{ created: boolean; assignment: RoleAssignment }> {
    const subscription = inSubscription(scope);
    assignmentName(name);
    const { properties } = body;
    const role = await this.assignableRole(scope, properties.roleDefinitionId);
    if (!GUID.test(properties.principalId)) {
      throw new VaultError(400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
    }
    await this.mayHandle(caller.principal, WRITE, scope, role);
    const existing = await this.store.getAssignment(name);
    if (existing) return { created: false, assignment: sameOrRefuse(existing, scope, properties.principalId, role, properties) };
    const time = this.now().toISOString();
    const assignment: RoleAssignment = {
      name: name.toLowerCase(),
      scope,
      roleDefinitionId: `${subscriptionScope(subscription)}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
      principalId: properties.principalId.toLowerCase(),
      principalType: properties.principalType ?? 'User',
      tenantId: caller.tenantId,
      ...(properties.description == null ? {} : { description: properties.description }),
      ...(properties.condition == null ? {} : { condition: properties.condition, conditionVersion: properties.conditionVersion ?? '2.0' }),
      createdOn: time,
      updatedOn: time,
      createdBy: caller.principal.objectId,
      updatedBy: caller.principal.objectId,
    };
    const outcome = await this.store.createAssignment(assignment);
    if (outcome === 'duplicate') throw new VaultError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
    if (outcome === 'nameTaken') {
      // Another writer took the name between our read and our write: answer as if we had read theirs.
      const winner = await this.store.getAssignment(name);
      if (!winner) throw new VaultError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
      return { created: false, assignment: sameOrRefuse(winner, scope, properties.principalId, role, properties) };
    }
    this.access.forget({ tenantId: assignment.tenantId, objectId: assignment.principalId });
    return { created: true, assignment };
  }

  /** The assignment, if it lies at the addressed scope (ARM finds it by name under its own scope only). */
  async get(scope: string, name: string): Promise<RoleAssignment> {
    assignmentName(name);
    const found = await this.store.getAssignment(name);
    if (!found || normalizeScope(found.scope) !== normalizeScope(scope)) {
      throw new VaultError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    }
    return found;
  }

  /** DELETE: the deleted assignment, or undefined (204) when there was none at the scope. */
  async delete(caller: Caller, scope: string, name: string): Promise<RoleAssignment | undefined> {
    assignmentName(name);
    const found = await this.store.getAssignment(name);
    if (!found || normalizeScope(found.scope) !== normalizeScope(scope)) return undefined;
    await this.mayHandle(caller.principal, DELETE, scope, roleDefinitionName(found.roleDefinitionId));
    await this.store.deleteAssignment(found);
    this.access.forget({ tenantId: found.tenantId, objectId: found.principalId });
    return found;
  }

  /**
   * The assignments ARM lists for a scope: without a filter those at, above and below it; `atScope()`
   * at or above it; `principalId eq '<id>'` and `assignedTo('<id>')` narrow either to one principal.
   */
  async list(scope: string, filter: string | undefined, skipToken: string | undefined): Promise<AssignmentPage> {
    const subscription = inSubscription(scope);
    const wanted = parseFilter(filter);
    const all = await this.store.assignmentsUnder(subscriptionScope(subscription));
    const matching = all
      .filter((a) => scopeCovers(a.scope, scope) || (!wanted.atScope && scopeCovers(scope, a.scope)))
      .filter((a) => wanted.principalId === undefined || a.principalId.toLowerCase() === wanted.principalId)
      .sort((a, b) => compare(sortKey(a), sortKey(b)));
    const after = skipToken === undefined ? undefined : openSkipToken(skipToken);
    const rest = after === undefined ? matching : matching.filter((a) => sortKey(a) > after);
    const value = rest.slice(0, this.pageSize);
    const last = value.at(-1);
    return { value, ...(rest.length > this.pageSize && last ? { next: Buffer.from(sortKey(last)).toString('base64url') } : {}) };
  }

  /** The role's GUID, if the id names a role that exists and may be assigned at the scope. */
  private async assignableRole(scope: string, id: string): Promise<string> {
    const match = ROLE_DEFINITION_ID.exec(id);
    const name = match?.[1];
    if (!name || !GUID.test(name)) throw new VaultError(400, 'InvalidRoleDefinitionId', `The role definition ID '${id.slice(0, 200)}' is not valid.`);
    const definition = await this.access.definition(name);
    const assignable = definition?.assignableScopes.some((s) => scopeCovers(s, scope));
    if (!definition || !assignable) {
      throw new VaultError(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${name}' does not exist.`);
    }
    return definition.name.toLowerCase();
  }

  /**
   * A holder whose every grant of the action is restricted (Key Vault Data Access Administrator) may
   * handle only the roles those grants name; an unrestricted grant or tenant administration allows all.
   */
  private async mayHandle(principal: Principal, action: string, scope: string, role: string): Promise<void> {
    if (this.access.isTenantAdministrator(principal)) return;
    const grants = await this.access.grants(principal, action, 'control', scope);
    if (grants.some((g) => !g.definition.grantableRoles)) return;
    if (grants.some((g) => g.definition.grantableRoles?.includes(role))) return;
    throw new VaultError(
      403,
      'AuthorizationFailed',
      `The client '${principal.upn ?? principal.objectId}' with object id '${principal.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid: the role '${role}' is not one its role assignments allow it to grant.`,
    );
  }
}

function inSubscription(scope: string): string {
  const subscription = subscriptionOf(scope);
  if (!subscription) throw new VaultError(400, 'InvalidScope', `The scope '${scope.slice(0, 200)}' is not valid for role assignments.`);
  return subscription;
}

function assignmentName(name: string): void {
  if (!GUID.test(name)) {
    throw new VaultError(
      400,
      'InvalidRoleAssignmentId',
      `The role assignment ID '${name.slice(0, 64)}' is not valid. The role assignment ID must be a GUID.`,
    );
  }
}

/** A PUT of an existing name answers it again if it says the same, and is refused otherwise: assignments are not updated. */
function sameOrRefuse(
  existing: RoleAssignment,
  scope: string,
  principalId: string,
  role: string,
  properties: CreateRoleAssignmentInput['properties'],
): RoleAssignment {
  const same =
    normalizeScope(existing.scope) === normalizeScope(scope) &&
    existing.principalId.toLowerCase() === principalId.toLowerCase() &&
    roleDefinitionName(existing.roleDefinitionId) === role &&
    (existing.description ?? null) === (properties.description ?? null) &&
    (existing.condition ?? null) === (properties.condition ?? null);
  if (same) return existing;
  throw new VaultError(409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
}

interface AssignmentFilter {
  atScope: boolean;
  principalId?: string;
}

/** ARM's role assignment filters, alone or joined by `and`. */
function parseFilter(filter: string | undefined): AssignmentFilter {
  const result: AssignmentFilter = { atScope: false };
  if (filter === undefined || filter.trim() === '') return result;
  for (const term of filter.split(/\s+and\s+/i)) {
    const clause = term.trim();
    const principal = /^(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))$/i.exec(clause);
    if (/^atScope\(\)$/i.test(clause)) result.atScope = true;
    else if (principal) result.principalId = (principal[1] ?? principal[2] ?? '').toLowerCase();
    else throw new VaultError(400, 'InvalidFilterInQueryString', `The filter '${filter.slice(0, 200)}' is not supported.`);
  }
  return result;
}

function sortKey(a: RoleAssignment): string {
  return `${normalizeScope(a.scope)}#${a.name.toLowerCase()}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function openSkipToken(token: string): string {
  const opened = Buffer.from(token, 'base64url').toString('utf8');
  if (!opened.startsWith('/subscriptions/')) throw new VaultError(400, 'InvalidSkipToken', 'The skip token is not valid.');
  return opened;
}
