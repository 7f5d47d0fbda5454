import type { RoleAssignment } from './assignments.ts';
import { roleDefinitionName } from './assignments.ts';
import type { RoleDefinition, RolePermissions } from './roles.ts';
import { scopeCovers } from './scopes.ts';

/**
 * Azure RBAC's decision for one action at one scope: allowed if some assignment of the principal at
 * the scope or above it grants the action through its role's permissions and the same permission
 * block does not exclude it (`notActions` subtract from their own block only, as in Azure). There are
 * no deny assignments.
 */
export type ActionKind = 'control' | 'data';

/** What a decision needs of an assignment: a vault's (lib/access/assignments.ts) or a managed HSM pool's (lib/hsm/rbac.ts). */
export type Assigned = Pick<RoleAssignment, 'scope' | 'roleDefinitionId'>;

export interface Grant<A extends Assigned = RoleAssignment> {
  assignment: A;
  definition: RoleDefinition;
}

export function findGrant<A extends Assigned>(
  assignments: readonly A[],
  definitionOf: (name: string) => RoleDefinition | undefined,
  action: string,
  kind: ActionKind,
  targetScope: string,
): Grant<A> | undefined {
  for (const assignment of assignments) {
    if (!scopeCovers(assignment.scope, targetScope)) continue;
    const definition = definitionOf(roleDefinitionName(assignment.roleDefinitionId));
    if (!definition) continue;
    if (definition.permissions.some((block) => blockGrants(block, action, kind))) return { assignment, definition };
  }
  return undefined;
}

/**
 * findGrant once the custom roles the assignments name are loaded: `cached` answers synchronously
 * (built-in roles, and custom ones already read), `load` reads the others. Only a missing definition
 * costs an await, so a warm decision over built-in roles pays none.
 */
export async function findGrantLoading<A extends Assigned>(
  assignments: readonly A[],
  cached: (name: string) => RoleDefinition | undefined,
  load: (name: string) => Promise<unknown>,
  action: string,
  kind: ActionKind,
  targetScope: string,
): Promise<Grant<A> | undefined> {
  const unloaded = assignments.map((a) => roleDefinitionName(a.roleDefinitionId)).filter((name) => !cached(name));
  if (unloaded.length > 0) await Promise.all(unloaded.map((name) => load(name)));
  return findGrant(assignments, cached, action, kind, targetScope);
}

function blockGrants(block: RolePermissions, action: string, kind: ActionKind): boolean {
  const [granted, excluded] = kind === 'data' ? [block.dataActions, block.notDataActions] : [block.actions, block.notActions];
  return granted.some((pattern) => actionMatches(pattern, action)) && !excluded.some((pattern) => actionMatches(pattern, action));
}

const patterns = new Map<string, RegExp>();

/** Azure's wildcard: `*` matches any run of characters, `/` included; actions are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  let regex = patterns.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`, 'i');
    patterns.set(pattern, regex);
  }
  return regex.test(action);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
