import { type AccessPolicyEntry, sameIdentity } from '../access/access-policies.ts';

/**
 * ARM's access-policy edits (`vaults/{v}/accessPolicies/{add|replace|remove}`) on a copy of a vault's
 * entries: `add` merges permissions into the entry of the same identity, `replace` sets them,
 * `remove` takes them out and drops entries left with none.
 */
export function editAccessPolicies(
  current: readonly AccessPolicyEntry[],
  given: readonly AccessPolicyEntry[],
  operation: 'add' | 'replace' | 'remove',
): AccessPolicyEntry[] {
  const entries = current.map((e) => structuredClone(e));
  for (const entry of given) {
    const index = entries.findIndex((e) => sameIdentity(e, entry));
    if (operation === 'replace' || index === -1) {
      if (operation === 'remove') continue;
      if (index === -1) entries.push(structuredClone(entry));
      else entries[index] = structuredClone(entry);
    } else entries[index] = operation === 'add' ? mergePermissions(entries[index]!, entry) : removePermissions(entries[index]!, entry);
  }
  return entries.filter((e) => operation !== 'remove' || hasPermissions(e));
}

type Permissions = AccessPolicyEntry['permissions'];
const KINDS = ['keys', 'secrets', 'certificates', 'storage'] as const;

function mergePermissions(entry: AccessPolicyEntry, given: AccessPolicyEntry): AccessPolicyEntry {
  const permissions: Permissions = { ...entry.permissions };
  for (const kind of KINDS) {
    const held = permissions[kind] ?? [];
    const added = (given.permissions[kind] ?? []).filter((p) => !held.some((h) => h.toLowerCase() === p.toLowerCase()));
    if (held.length + added.length > 0) permissions[kind] = [...held, ...added];
  }
  return { ...entry, permissions };
}

function removePermissions(entry: AccessPolicyEntry, given: AccessPolicyEntry): AccessPolicyEntry {
  const permissions: Permissions = { ...entry.permissions };
  for (const kind of KINDS) {
    const removed = new Set((given.permissions[kind] ?? []).map((p) => p.toLowerCase()));
    if (permissions[kind]) permissions[kind] = permissions[kind].filter((p) => !removed.has(p.toLowerCase()));
  }
  return { ...entry, permissions };
}

function hasPermissions(entry: AccessPolicyEntry): boolean {
  return KINDS.some((kind) => (entry.permissions[kind] ?? []).length > 0);
}
