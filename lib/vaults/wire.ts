import { VaultError } from '../core/errors.ts';
import { normalizeLocation } from './arm-resource.ts';
import { type Vault, vaultResourceId } from './vault.ts';

/** The management API's shapes of a vault, as `@azure/arm-keyvault` deserializes them. */
export function vaultResource(vault: Vault) {
  return {
    id: vaultResourceId(vault),
    name: vault.name,
    type: 'Microsoft.KeyVault/vaults',
    location: vault.location,
    tags: vault.tags,
    systemData: {
      createdAt: new Date(vault.created * 1000).toISOString(),
      lastModifiedAt: new Date((vault.updated ?? vault.created) * 1000).toISOString(),
    },
    properties: {
      tenantId: vault.tenantId,
      sku: { family: 'A', name: vault.sku },
      accessPolicies: vault.accessPolicies,
      vaultUri: vault.vaultUri,
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableRbacAuthorization: vault.enableRbacAuthorization,
      enableSoftDelete: true,
      softDeleteRetentionInDays: vault.softDeleteRetentionDays,
      // Azure leaves the property out until purge protection is turned on.
      ...(vault.purgeProtection ? { enablePurgeProtection: true } : {}),
      publicNetworkAccess: vault.publicNetworkAccess,
      provisioningState: 'Succeeded',
    },
  };
}

/** A vault as `GET /subscriptions/{s}/resources` lists it (GenericResource). */
export function genericResource(vault: Vault) {
  return { id: vaultResourceId(vault), name: vault.name, type: 'Microsoft.KeyVault/vaults', location: vault.location, tags: vault.tags };
}

export function deletedVaultResource(vault: Vault) {
  const location = normalizeLocation(vault.location);
  return {
    id: `/subscriptions/${vault.subscriptionId}/providers/Microsoft.KeyVault/locations/${location}/deletedVaults/${vault.name}`,
    name: vault.name,
    type: 'Microsoft.KeyVault/deletedVaults',
    properties: {
      vaultId: vaultResourceId(vault),
      location,
      deletionDate: vault.deleted?.deletionDate,
      scheduledPurgeDate: vault.deleted?.scheduledPurgeDate,
      tags: vault.tags,
      purgeProtectionEnabled: vault.purgeProtection,
    },
  };
}

export function accessPolicyResource(vault: Vault, kind: string) {
  return {
    id: `${vaultResourceId(vault)}/accessPolicies/${kind.toLowerCase()}`,
    name: kind.toLowerCase(),
    type: 'Microsoft.KeyVault/vaults/accessPolicies',
    location: vault.location,
    properties: { accessPolicies: vault.accessPolicies },
  };
}

/**
 * One page of an ARM list (of vaults, or of managed HSM pools): `$top` items after `$skiptoken` (the last name of the page before), and a
 * nextLink when more are left. Names are not secret, so the token is the name itself.
 */
export function armPage<R extends { name: string }, T>(
  resources: R[],
  query: Record<string, string | undefined>,
  nextBase: string,
  shape: (resource: R) => T,
): { value: T[]; nextLink?: string } {
  const top = query.$top === undefined ? undefined : Number(query.$top);
  if (top !== undefined && (!Number.isInteger(top) || top < 1 || top > 1000)) {
    throw new ArmBadTop(query.$top ?? '');
  }
  const after = query.$skiptoken;
  const rest = after === undefined ? resources : resources.filter((r) => r.name > after.toLowerCase());
  const page = top === undefined ? rest : rest.slice(0, top);
  if (top === undefined || rest.length <= top) return { value: page.map(shape) };
  const next = new URL(nextBase);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && name !== '$skiptoken') next.searchParams.set(name, value);
  next.searchParams.set('$skiptoken', page.at(-1)!.name);
  return { value: page.map(shape), nextLink: next.toString() };
}

class ArmBadTop extends VaultError {
  constructor(top: string) {
    super(400, 'BadRequest', `The value '${top.slice(0, 32)}' of '$top' is not valid: use a whole number from 1 to 1000.`);
  }
}

/** The resource type a `$filter` of `resourceType eq '<type>'` asks for, lowercased; undefined without a filter. */
export function resourceTypeFilter(filter: string | undefined): string | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = /^\s*resourceType\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (!match)
    throw new VaultError(400, 'InvalidFilterInQueryString', `The $filter '${filter.slice(0, 128)}' is not supported: use resourceType eq '<type>'.`);
  return match[1]!.toLowerCase();
}
