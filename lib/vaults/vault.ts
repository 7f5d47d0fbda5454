import type { RoleAssignment } from '../access/rbac.ts';

/**
 * A vault: the unit of tenancy, encryption and access control. Created by the control plane (the
 * local stack's bootstrap, or an administrator), never through the data-plane API.
 */
export interface Vault {
  name: string;
  tenantId: string;
  /** The vault's own KMS key: every object in it is envelope-encrypted under this key. */
  kmsKeyArn: string;
  sku: 'standard' | 'premium';
  /** Soft-delete retention, 7 to 90 days, fixed at creation. */
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  roleAssignments: RoleAssignment[];
  /** KMS-encrypted data key for signing paging tokens, so a token is tied to this vault. */
  pagingKeyCiphertext: Uint8Array;
  created: number;
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

export const VAULT_NAME = /^(?=.{3,24}$)[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*[a-zA-Z0-9]$/;

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

/** The port the vault directory reads through; lib/aws/dynamo-vaults.ts implements it. */
export interface VaultStore {
  getVault(name: string): Promise<Vault | undefined>;
  /** Creates the vault; false if the name is taken. */
  createVault(vault: Vault): Promise<boolean>;
  putVault(vault: Vault): Promise<void>;
}
