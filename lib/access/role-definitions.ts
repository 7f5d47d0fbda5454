import type { Principal } from '../auth/principal.ts';
import { VaultError } from '../core/errors.ts';
import type { AccessControl } from './access-control.ts';
import { type AccessStore, roleDefinitionName } from './assignments.ts';
import { builtInRole, builtInRoles, type RoleDefinition } from './roles.ts';
import type { RoleDefinitionInput } from './schemas.ts';
import { normalizeScope, scopeCovers, subscriptionOf, subscriptionScope } from './scopes.ts';

/**
 * Role definitions as Microsoft.Authorization/roleDefinitions manages them: the built-in roles (code,
 * readable by GUID at any scope) and custom roles stored per subscription, assignable only at the
 * scopes they name, never deleted while assigned.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class RoleDefinitions {
  constructor(
    private readonly store: AccessStore,
    private readonly access: AccessControl,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(principal: Principal, scope: string, name: string, body: RoleDefinitionInput): Promise<RoleDefinition> {
    const subscription = inSubscription(scope);
    definitionName(name);
    if (builtInRole(name)) throw new VaultError(400, 'RoleDefinitionUpdateNotPermitted', `The built-in role definition '${name}' cannot be changed.`);
    const { properties } = body;
    for (const assignable of properties.assignableScopes) {
      if (subscriptionOf(assignable) !== subscription) {
        throw new VaultError(
          400,
          'InvalidAssignableScope',
          `The assignable scope '${assignable.slice(0, 200)}' is not valid: it must lie in subscription '${subscription}'.`,
        );
      }
      // Writing a role assignable somewhere is managing access there: ARM asks for the write at each scope.
      if (!scopeCovers(scope, assignable)) await this.access.authorizeControl(principal, 'Microsoft.Authorization/roleDefinitions/write', assignable);
    }
    const existing = await this.store.getRoleDefinition(name);
    if (existing && subscriptionOf(existing.assignableScopes[0] ?? '') !== subscription) {
      throw new VaultError(409, 'RoleDefinitionWithSameNameExists', `A role definition with ID '${name}' exists in another subscription.`);
    }
    const sameName = [...builtInRoles, ...(await this.store.roleDefinitionsIn(subscription))].find(
      (d) => d.roleName.toLowerCase() === properties.roleName.toLowerCase() && d.name !== name.toLowerCase(),
    );
    if (sameName)
      throw new VaultError(409, 'RoleDefinitionWithSameNameExists', `A role definition cannot be updated with a name that already exists.`);
    const time = this.now().toISOString();
    const definition: RoleDefinition = {
      name: name.toLowerCase(),
      roleName: properties.roleName,
      description: properties.description ?? '',
      roleType: 'CustomRole',
      permissions: properties.permissions.map((p) => ({
        actions: p.actions ?? [],
        notActions: p.notActions ?? [],
        dataActions: p.dataActions ?? [],
        notDataActions: p.notDataActions ?? [],
      })),
      assignableScopes: properties.assignableScopes,
      createdOn: existing?.createdOn ?? time,
      updatedOn: time,
      createdBy: existing?.createdBy ?? principal.objectId,
    };
    await this.store.putRoleDefinition(subscription, definition);
    this.access.forget(undefined);
    return definition;
  }

  async get(scope: string, name: string): Promise<RoleDefinition> {
    definitionName(name);
    const found = builtInRole(name) ?? (await this.custom(scope, name));
    if (!found) throw notFound(name);
    return found;
  }

  /** The deleted definition, or undefined (204) when there was none. */
  async delete(scope: string, name: string): Promise<RoleDefinition | undefined> {
    const subscription = inSubscription(scope);
    definitionName(name);
    if (builtInRole(name)) throw new VaultError(400, 'RoleDefinitionDeleteNotPermitted', `The built-in role definition '${name}' cannot be deleted.`);
    const found = await this.custom(scope, name);
    if (!found) return undefined;
    const assigned = (await this.store.assignmentsUnder(subscriptionScope(subscription))).some(
      (a) => roleDefinitionName(a.roleDefinitionId) === found.name,
    );
    if (assigned) {
      throw new VaultError(
        409,
        'RoleDefinitionHasAssignments',
        'There are existing role assignments referencing role. Please remove them before deleting the role.',
      );
    }
    await this.store.deleteRoleDefinition(subscription, found.name);
    this.access.forget(undefined);
    return found;
  }

  /** The built-in roles and the custom roles assignable at, above or below the scope; `roleName eq '...'` and `type eq '...'` filter. */
  async list(scope: string, filter: string | undefined): Promise<RoleDefinition[]> {
    const wanted = parseFilter(filter);
    const subscription = subscriptionOf(scope);
    const custom = subscription
      ? (await this.store.roleDefinitionsIn(subscription)).filter((d) =>
          d.assignableScopes.some((s) => scopeCovers(s, scope) || scopeCovers(scope, s)),
        )
      : [];
    return [...builtInRoles, ...custom].filter(
      (d) =>
        (wanted.roleName === undefined || d.roleName.toLowerCase() === wanted.roleName) && (wanted.type === undefined || d.roleType === wanted.type),
    );
  }

  /** A custom role, if its home is the subscription the scope lies in. */
  private async custom(scope: string, name: string): Promise<RoleDefinition | undefined> {
    const found = await this.store.getRoleDefinition(name);
    const subscription = subscriptionOf(scope);
    if (!found || !subscription) return undefined;
    return found.assignableScopes.some((s) => subscriptionOf(s) === subscription) ? found : undefined;
  }
}

function inSubscription(scope: string): string {
  const subscription = subscriptionOf(scope);
  if (!subscription)
    throw new VaultError(400, 'InvalidScope', `The scope '${normalizeScope(scope).slice(0, 200)}' is not valid for custom role definitions.`);
  return subscription;
}

function definitionName(name: string): void {
  if (!GUID.test(name)) throw new VaultError(400, 'InvalidRoleDefinitionId', `The role definition ID '${name.slice(0, 64)}' is not valid.`);
}

function notFound(name: string): VaultError {
  return new VaultError(404, 'RoleDefinitionDoesNotExist', `The role definition '${name}' could not be found.`);
}

function parseFilter(filter: string | undefined): { roleName?: string; type?: string } {
  const result: { roleName?: string; type?: string } = {};
  if (filter === undefined || filter.trim() === '') return result;
  for (const term of filter.split(/\s+and\s+/i)) {
    const match = /^(roleName|type)\s+eq\s+'([^']*)'$/i.exec(term.trim());
    if (!match) throw new VaultError(400, 'InvalidFilterInQueryString', `The filter '${filter.slice(0, 200)}' is not supported.`);
    if (match[1]!.toLowerCase() === 'rolename') result.roleName = match[2]!.toLowerCase();
    else if (match[2] === 'BuiltInRole' || match[2] === 'CustomRole') result.type = match[2];
    else throw new VaultError(400, 'InvalidFilterInQueryString', `The role type '${match[2]!.slice(0, 64)}' is not valid.`);
  }
  return result;
}
