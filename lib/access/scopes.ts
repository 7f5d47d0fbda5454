import type { Collection } from '../core/kinds.ts';

/**
 * ARM scopes: resource ids a role assignment can be made at. An assignment covers every scope its
 * own is a segment-wise prefix of, compared case-insensitively as ARM does (docs/adr/0013).
 */
export interface VaultLocation {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function subscriptionScope(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}`;
}

export function resourceGroupScope(subscriptionId: string, resourceGroup: string): string {
  return `${subscriptionScope(subscriptionId)}/resourceGroups/${resourceGroup}`;
}

/** A vault's ARM resource id. */
export function vaultScope(vault: VaultLocation): string {
  return `${resourceGroupScope(vault.subscriptionId, vault.resourceGroup)}/providers/Microsoft.KeyVault/vaults/${vault.name}`;
}

/** One secret, key or certificate of a vault: the narrowest scope Key Vault RBAC knows. */
export function objectScope(vault: VaultLocation, collection: Collection, name: string): string {
  return `${vaultScope(vault)}/${collection}/${name}`;
}

/** `/subscriptions/a/resourceGroups/b` covers `/subscriptions/A/resourceGroups/B/providers/...`, not `/subscriptions/a/resourceGroups/bc`. */
export function scopeCovers(assignmentScope: string, targetScope: string): boolean {
  const outer = normalizeScope(assignmentScope);
  const inner = normalizeScope(targetScope);
  return outer === '' || inner === outer || inner.startsWith(`${outer}/`);
}

/** Lowercased, without a trailing slash: the form scopes are compared and keyed in. */
export function normalizeScope(scope: string): string {
  return scope.replace(/\/+$/, '').toLowerCase();
}

/** The subscription a scope lies in, or undefined for the root scope and anything not under `/subscriptions/`. */
export function subscriptionOf(scope: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase();
}
