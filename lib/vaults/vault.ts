import type { AccessPolicyEntry } from '../access/access-policies.ts';
import { vaultScope } from '../access/scopes.ts';

/**
 * A vault: the unit of tenancy, encryption and access control. Created through the management plane
 * (lib/vaults/manage.ts), never through the data-plane API. It lives in one resource group of one
 * subscription of its tenant (docs/adr/0013-tenants-vaults-and-access.md).
 */
export interface Vault {
  name: string;
  tenantId: string;
  subscriptionId: string;
  /** As its creator spelled it. */
  resourceGroup: string;
  location: string;
  /** The data-plane URL the management API answers as `vaultUri`: `https://<name>.<vault domain>/`, or a claimed local endpoint. */
  vaultUri: string;
  /** RBAC decides data-plane access when true; the access policies when false (never both). */
  enableRbacAuthorization: boolean;
  accessPolicies: AccessPolicyEntry[];
  publicNetworkAccess: 'Enabled' | 'Disabled';
  tags: Record<string, string>;
  /** Set while the vault is soft-deleted: its objects are unreachable until it is recovered or purged. */
  deleted?: { deletionDate: string; scheduledPurgeDate: string };
  /** Bumped by every change: management updates are conditional on the revision they read. */
  revision: number;
  /** The vault's own KMS key: every object in it is envelope-encrypted under this key. */
  kmsKeyArn: string;
  sku: 'standard' | 'premium';
  /** Soft-delete retention, 7 to 90 days, fixed at creation. */
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  /** KMS-encrypted data key for signing paging tokens, so a token is tied to this vault. */
  pagingKeyCiphertext: Uint8Array;
  created: number;
  /** Unix seconds of the last management change; absent until the first. */
  updated?: number;
  /**
   * Strict audit, chosen at creation: each request's audit record is written to the audit store
   * before the response leaves, instead of to the function's log stream for delivery a moment later
   * (docs/adr/0009-audit-through-the-log-stream.md). It costs a DynamoDB write per request. Absent
   * on vaults created before the option existed: they are not strict.
   */
  strictAudit?: boolean;
}

/** Where the caller reached the vault: object ids are built on it. */
export interface VaultAddress {
  vault: Vault;
  /** e.g. `https://myvault.vault.example.com` or `https://localhost:8443` */
  baseUrl: string;
}

/**
 * Host labels of the vault domain that are not vaults: `management.<vault domain>` is the management
 * plane's host in AWS, so no vault may take the name (docs/deploy.md).
 */
const RESERVED_NAMES = new Set(['management']);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name.toLowerCase());
}

export const VAULT_NAME = /^(?=.{3,24}$)[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*[a-zA-Z0-9]$/;

/** The vault's ARM resource id: role assignments, audit records and events name it. */
export function vaultResourceId(vault: Pick<Vault, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return vaultScope(vault);
}

/** Azure's recoveryLevel for a vault's soft-delete settings (reference §7). */
export function recoveryLevel(vault: Pick<Vault, 'softDeleteRetentionDays' | 'purgeProtection'>): string {
  const customized = vault.softDeleteRetentionDays < 90 ? 'CustomizedRecoverable' : 'Recoverable';
  return vault.purgeProtection ? customized : `${customized}+Purgeable`;
}

/** The encryption context every data key of this vault is bound to. */
export function objectKeyScope(vault: Pick<Vault, 'name' | 'kmsKeyArn'>) {
  return { keyId: vault.kmsKeyArn, context: { 'coffer:vault': vault.name, 'coffer:purpose': 'objects' } };
}

export function pagingKeyContext(vaultName: string): Record<string, string> {
  return { 'coffer:vault': vaultName, 'coffer:purpose': 'paging-token' };
}

/** The port the vault directory and the management service use; lib/aws/dynamo-vaults.ts implements it. */
export interface VaultStore {
  /** The vault, deleted or not. */
  getVault(name: string): Promise<Vault | undefined>;
  /** Creates the vault; false if the name is taken (by a live or a deleted vault). */
  createVault(vault: Vault): Promise<boolean>;
  /** Writes the vault if its stored revision is still `expectedRevision`; false if another change came first. */
  updateVault(vault: Vault, expectedRevision: number): Promise<boolean>;
  /** The vault a claimed local endpoint (`host:port`) serves, if any. */
  vaultAtEndpoint(hostAndPort: string): Promise<string | undefined>;
  /** Every vault of the subscription, deleted or not, in name order. */
  vaultsIn(subscriptionId: string): Promise<Vault[]>;
  /** Claims a free local endpoint for the vault; false if another vault holds it. */
  claimEndpoint(hostAndPort: string, vaultName: string): Promise<boolean>;
  /** Frees the vault's claim on the endpoint (a purged vault's). */
  releaseEndpoint(hostAndPort: string, vaultName: string): Promise<void>;
  /**
   * Removes every object of the vault (heads, versions, deleted heads, attachments) and then the vault
   * itself; answers the KMS keys of its HSM-backed key versions, for the caller to schedule for deletion.
   */
  purgeVault(vault: Vault): Promise<string[]>;
  /** Whether the resource group exists (ARM clients create it before the vaults in it). */
  resourceGroupExists(subscriptionId: string, name: string): Promise<boolean>;
}
