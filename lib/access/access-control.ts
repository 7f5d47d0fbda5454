import { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal.ts';
import { Forbidden, VaultError } from '../core/errors.ts';
import { type AccessPolicyEntry, type PolicyRequirement, policyGrants } from './access-policies.ts';
import type { AccessStore, RoleAssignment } from './assignments.ts';
import { type ActionKind, findGrant, findGrantLoading, type Grant } from './decide.ts';
import { builtInRole, type RoleDefinition } from './roles.ts';
import { subscriptionOf, type VaultLocation, vaultScope } from './scopes.ts';
import { EXPIRING_CACHE } from '../core/caches.ts';

/**
 * Every access decision, for both planes. What a decision reads is cached per container for
 * `ACCESS_CACHE_TTL_MS`: a grant or revocation takes effect within that bound (docs/adr/0013), and a
 * warm request asks DynamoDB nothing.
 */
export const ACCESS_CACHE_TTL_MS = 5_000;

const DATA_ACTION_PREFIX = 'Microsoft.KeyVault/vaults/';

/** What a data-plane decision needs of a vault. */
export interface GuardedVault extends VaultLocation {
  tenantId: string;
  enableRbacAuthorization: boolean;
  accessPolicies: readonly AccessPolicyEntry[];
}

export interface DataAccessRequest {
  vault: GuardedVault;
  principal: Principal;
  /** The route's DataAction without `Microsoft.KeyVault/vaults/`. */
  dataAction: string;
  /** What an access-policy vault requires instead; undefined when no access policy grants the operation. */
  policy: PolicyRequirement | undefined;
  /** The ARM scope of the object addressed, or of the vault. */
  scope: string;
  /** Named in RBAC refusals, as Key Vault does. */
  region: string;
}

export interface AccessControlOptions {
  tenantAdministrators: readonly { tenantId: string; objectId: string }[];
  ttlMs?: number;
}

export class AccessControl {
  private readonly held: LRUCache<string, RoleAssignment[]>;
  private readonly customRoles: LRUCache<string, { definition: RoleDefinition | undefined }>;
  private readonly administrators: Set<string>;

  constructor(
    private readonly store: AccessStore,
    options: AccessControlOptions,
  ) {
    const ttl = options.ttlMs ?? ACCESS_CACHE_TTL_MS;
    this.held = new LRUCache({ max: 10_000, ttl, ...EXPIRING_CACHE });
    this.customRoles = new LRUCache({ max: 1_000, ttl, ...EXPIRING_CACHE });
    this.administrators = new Set(options.tenantAdministrators.map((a) => identityKey(a.tenantId, a.objectId)));
  }

  /** Throws Key Vault's 403 (ForbiddenByRbac, or Forbidden/AccessDenied for access policies) unless the vault's model allows the request. */
  async authorizeData(request: DataAccessRequest): Promise<void> {
    const { vault, principal } = request;
    if (!vault.enableRbacAuthorization) {
      if (request.policy && policyGrants(vault.accessPolicies, principal, request.policy)) return;
      throw accessPolicyRefusal(request);
    }
    const grant = await this.grant(principal, DATA_ACTION_PREFIX + request.dataAction, 'data', request.scope);
    if (!grant) throw rbacRefusal(request);
  }

  /**
   * The grant that allows a management action at a scope, or 'tenantAdministrator'; throws ARM's 403
   * AuthorizationFailed otherwise.
   */
  async authorizeControl(principal: Principal, action: string, scope: string): Promise<Grant | 'tenantAdministrator'> {
    if (this.isTenantAdministrator(principal)) return 'tenantAdministrator';
    const grant = await this.grant(principal, action, 'control', scope);
    if (grant) return grant;
    throw new VaultError(
      403,
      'AuthorizationFailed',
      `The client '${principal.upn ?? principal.objectId}' with object id '${principal.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }

  isTenantAdministrator(principal: Principal): boolean {
    return this.administrators.has(identityKey(principal.tenantId, principal.objectId));
  }

  /** Every grant the principal holds for the action at the scope (the role assignment service checks what each lets its holder grant). */
  async grants(principal: Principal, action: string, kind: ActionKind, scope: string): Promise<Grant[]> {
    const assignments = await this.assignmentsOf(principal, scope);
    const found: Grant[] = [];
    for (const assignment of assignments) {
      const grant = findGrant([assignment], (name) => this.cachedDefinition(name), action, kind, scope);
      if (grant) found.push(grant);
    }
    return found;
  }

  /** A role definition by GUID: built in, or a stored custom role (cached like assignments). */
  async definition(name: string): Promise<RoleDefinition | undefined> {
    const builtIn = builtInRole(name);
    if (builtIn) return builtIn;
    const key = name.toLowerCase();
    const cached = this.customRoles.get(key);
    if (cached) return cached.definition;
    const definition = await this.store.getRoleDefinition(key);
    this.customRoles.set(key, { definition });
    return definition;
  }

  /** After a change this container made: its own next decision sees it at once. */
  forget(principal: { tenantId: string; objectId: string } | undefined): void {
    if (!principal) {
      this.held.clear();
      this.customRoles.clear();
      return;
    }
    for (const key of this.held.keys()) if (key.startsWith(identityKey(principal.tenantId, principal.objectId))) this.held.delete(key);
  }

  private async grant(principal: Principal, action: string, kind: ActionKind, scope: string): Promise<Grant | undefined> {
    const assignments = await this.assignmentsOf(principal, scope);
    if (assignments.length === 0) return undefined;
    // Built-in roles need no await, which the hot path would otherwise pay on every request.
    return findGrantLoading(
      assignments,
      (name) => this.cachedDefinition(name),
      (name) => this.definition(name),
      action,
      kind,
      scope,
    );
  }

  private cachedDefinition(name: string): RoleDefinition | undefined {
    return builtInRole(name) ?? this.customRoles.get(name.toLowerCase())?.definition;
  }

  private async assignmentsOf(principal: Principal, scope: string): Promise<RoleAssignment[]> {
    const subscription = subscriptionOf(scope);
    if (!subscription) return [];
    const key = `${identityKey(principal.tenantId, principal.objectId)}|${subscription}`;
    const cached = this.held.get(key);
    if (cached) return cached;
    const assignments = await this.store.assignmentsOf(principal.tenantId, principal.objectId, subscription);
    this.held.set(key, assignments);
    return assignments;
  }
}

function identityKey(tenantId: string, objectId: string): string {
  return `${tenantId.toLowerCase()}|${objectId.toLowerCase()}`;
}

function callerOf(principal: Principal): string {
  return `appid=${principal.appId ?? ''};oid=${principal.objectId};iss=${principal.issuer}`;
}

function rbacRefusal({ vault, principal, dataAction, scope, region }: DataAccessRequest): Forbidden {
  const resource = scope.slice(vaultScope(vault).length);
  return new Forbidden(
    [
      'Caller is not authorized to perform action on resource.',
      'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
      `Caller: ${callerOf(principal)}`,
      `Action: '${DATA_ACTION_PREFIX}${dataAction}'`,
      `Resource: '${`/subscriptions/${vault.subscriptionId}/resourcegroups/${vault.resourceGroup}/providers/microsoft.keyvault/vaults/${vault.name}${resource}`.toLowerCase()}'`,
      'Assignment: (not found)',
      "DecisionReason: 'DeniedWithNoValidRBAC'",
      `Vault: ${vault.name};location=${region}`,
    ].join('\r\n'),
    'ForbiddenByRbac',
  );
}

function accessPolicyRefusal({ vault, principal, policy, region }: DataAccessRequest): Forbidden {
  const what = policy ? `${policy.kind} ${policy.permission}` : 'the required';
  return new Forbidden(
    `The user, group or application '${callerOf(principal)}' does not have ${what} permission on key vault '${vault.name};location=${region}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
    'AccessDenied',
  );
}
