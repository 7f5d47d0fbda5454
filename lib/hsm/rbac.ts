import { LRUCache } from 'lru-cache';
import { ACCESS_CACHE_TTL_MS } from '../access/access-control.ts';
import { roleDefinitionName } from '../access/assignments.ts';
import { findGrantLoading } from '../access/decide.ts';
import type { RoleDefinition } from '../access/roles.ts';
import { normalizeScope } from '../access/scopes.ts';
import type { Principal } from '../auth/principal.ts';
import { EXPIRING_CACHE } from '../core/caches.ts';
import { BadParameter, VaultError } from '../core/errors.ts';
import { OBJECT_NAME, printable } from '../core/names.ts';
import { HSM_DATA_ACTION_PREFIX, type HsmDataAction, hsmBuiltInRole } from './roles.ts';

/**
 * A managed HSM pool's local RBAC (docs/adr/0021-managed-hsm-local-rbac.md): role assignments at the
 * pool's scopes `/`, `/keys` and `/keys/{key name}`, decided with Azure RBAC's rules (lib/access/
 * decide.ts: dataActions minus notDataActions of the same block, wildcards, a scope covering those
 * below it). Deny by default. `/` and `/keys` are both the HSM-level scope, as Managed HSM's access
 * control documentation has it: an assignment at either covers the whole pool.
 */
export const HSM_ROOT_SCOPE = '/';
const HSM_KEYS_SCOPE = '/keys';

/** A role assignment in a pool: the principal holds the role at the scope. Object ids are the pool's tenant's. */
export interface HsmRoleAssignment {
  /** A GUID chosen by the client, lowercased. */
  name: string;
  /** `/`, `/keys` or `/keys/{key name}`, the key name as the client wrote it (compared case-insensitively). */
  scope: string;
  /** `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{guid}` */
  roleDefinitionId: string;
  /** Lowercased object id. */
  principalId: string;
}

/** The pool's role assignments and custom role definitions; lib/aws/dynamo-hsm-rbac.ts implements it. */
export interface HsmRbacStore {
  /** False when the pool has an assignment of that name already. */
  createAssignment(pool: string, assignment: HsmRoleAssignment): Promise<boolean>;
  getAssignment(pool: string, name: string): Promise<HsmRoleAssignment | undefined>;
  deleteAssignment(pool: string, assignment: HsmRoleAssignment): Promise<void>;
  /** Every assignment of the pool, by name. */
  assignments(pool: string): Promise<HsmRoleAssignment[]>;
  /** Every assignment the principal holds in the pool: what each decision asks. */
  assignmentsOf(pool: string, principalId: string): Promise<HsmRoleAssignment[]>;
  /** Creates or replaces a custom role definition. */
  putRoleDefinition(pool: string, definition: RoleDefinition): Promise<void>;
  getRoleDefinition(pool: string, name: string): Promise<RoleDefinition | undefined>;
  deleteRoleDefinition(pool: string, name: string): Promise<void>;
  /** The pool's custom role definitions, by name. */
  roleDefinitions(pool: string): Promise<RoleDefinition[]>;
  /** Everything of the pool's RBAC: a purged pool's name starts over with none of its grants. */
  deletePool(pool: string): Promise<void>;
}

const HSM_ROLE_DEFINITION_ID_PREFIX = 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/';

export function hsmRoleDefinitionId(name: string): string {
  return HSM_ROLE_DEFINITION_ID_PREFIX + name.toLowerCase();
}

/** The scope of one key: what a key operation's decision is asked at. */
export function hsmKeyScope(keyName: string): string {
  return `${HSM_KEYS_SCOPE}/${keyName}`;
}

/**
 * The scope a path names (`/{scope}/providers/Microsoft.Authorization/...`), as the SDKs write it: `/`
 * (the Python and JS clients send `///providers` for it), `/keys` or `/keys/{key name}`, slashes
 * around it ignored. Anything else is a 400.
 */
export function hsmScope(raw: string): string {
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return HSM_ROOT_SCOPE;
  const [collection, name, ...rest] = trimmed.split('/');
  if (collection?.toLowerCase() === 'keys' && rest.length === 0) {
    if (name === undefined) return HSM_KEYS_SCOPE;
    if (OBJECT_NAME.test(name)) return hsmKeyScope(name);
  }
  throw new BadParameter(`The scope '${printable(raw)}' is not valid: a managed HSM's role assignments are at '/', '/keys' or '/keys/{key name}'.`);
}

/** `/` and `/keys` are one HSM-level scope. */
export function isHsmLevel(scope: string): boolean {
  const normal = normalizeScope(scope);
  return normal === '' || normal === HSM_KEYS_SCOPE;
}

/**
 * The pool's access decisions. What a decision reads (a principal's assignments in the pool, the
 * custom roles they name) is cached per container for `ACCESS_CACHE_TTL_MS` (5 seconds), the bound
 * vaults have too (docs/adr/0013): a grant or revocation takes effect within it, and a warm decision
 * asks DynamoDB nothing.
 */
export class HsmRbac {
  private readonly held: LRUCache<string, HsmRoleAssignment[]>;
  private readonly customRoles: LRUCache<string, { definition: RoleDefinition | undefined }>;

  constructor(
    private readonly store: HsmRbacStore,
    ttlMs: number = ACCESS_CACHE_TTL_MS,
  ) {
    this.held = new LRUCache({ max: 10_000, ttl: ttlMs, ...EXPIRING_CACHE });
    this.customRoles = new LRUCache({ max: 1_000, ttl: ttlMs, ...EXPIRING_CACHE });
  }

  /**
   * Throws Managed HSM's 403 AccessDenied unless one of the principal's assignments in the pool, at
   * the scope or one covering it, grants the DataAction. `activityId` (the request id) ends the
   * message, as Managed HSM's do.
   */
  async authorize(pool: string, principal: Principal, dataAction: HsmDataAction, scope: string, activityId?: string): Promise<void> {
    const action = HSM_DATA_ACTION_PREFIX + dataAction;
    const held = (await this.assignmentsOf(pool, principal.objectId)).map((a) => (isHsmLevel(a.scope) ? { ...a, scope: HSM_ROOT_SCOPE } : a));
    const grant =
      held.length > 0 &&
      (await findGrantLoading(
        held,
        (name) => this.cachedDefinition(pool, name),
        (name) => this.definition(pool, name),
        action,
        'data',
        scope,
      ));
    if (grant) return;
    const suffix = activityId === undefined ? '' : ` (Activity ID: ${activityId})`;
    throw new VaultError(403, 'AccessDenied', `Not authorized to access ${action} on ${scope}${suffix}`);
  }

  /** A role definition of the pool by GUID: built in, or a stored custom role (cached like assignments). */
  async definition(pool: string, name: string): Promise<RoleDefinition | undefined> {
    const builtIn = hsmBuiltInRole(name);
    if (builtIn) return builtIn;
    const key = definitionKey(pool, name);
    const cached = this.customRoles.get(key);
    if (cached) return cached.definition;
    const definition = await this.store.getRoleDefinition(pool, name.toLowerCase());
    this.customRoles.set(key, { definition });
    return definition;
  }

  /** After a change this container made: its own next decision sees it at once (others within the bound). */
  forget(pool: string, principalId?: string): void {
    if (principalId !== undefined) {
      this.held.delete(heldKey(pool, principalId));
      return;
    }
    const prefix = `${pool.toLowerCase()}|`;
    for (const cache of [this.held, this.customRoles]) for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
  }

  private cachedDefinition(pool: string, name: string): RoleDefinition | undefined {
    return hsmBuiltInRole(name) ?? this.customRoles.get(definitionKey(pool, name))?.definition;
  }

  private async assignmentsOf(pool: string, principalId: string): Promise<HsmRoleAssignment[]> {
    const key = heldKey(pool, principalId);
    const cached = this.held.get(key);
    if (cached) return cached;
    const assignments = await this.store.assignmentsOf(pool, principalId.toLowerCase());
    this.held.set(key, assignments);
    return assignments;
  }
}

/** The GUID an assignment's role definition id ends in. */
export function assignedRole(assignment: Pick<HsmRoleAssignment, 'roleDefinitionId'>): string {
  return roleDefinitionName(assignment.roleDefinitionId);
}

function heldKey(pool: string, principalId: string): string {
  return `${pool.toLowerCase()}|${principalId.toLowerCase()}`;
}

function definitionKey(pool: string, name: string): string {
  return `${pool.toLowerCase()}|${name.toLowerCase()}`;
}
