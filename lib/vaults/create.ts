import { randomUUID } from 'node:crypto';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import type { RoleAssignment } from '../access/rbac.ts';
import { pagingKeyContext, VAULT_NAME, type Vault, type VaultStore } from './vault.ts';

export interface CreateVaultInput {
  name: string;
  tenantId: string;
  sku?: 'standard' | 'premium';
  softDeleteRetentionDays?: number;
  purgeProtection?: boolean;
  /** Every request's audit record written to the audit store before its response (lib/vaults/vault.ts). */
  strictAudit?: boolean;
  /** Principals (object ids) and role definition ids to grant at vault scope. */
  grants?: { principalId: string; roleDefinitionId: string }[];
}

export interface VaultKeys extends DataKeyProvider {
  createVaultKey(vaultName: string, tags: Record<string, string>): Promise<string>;
}

/** Control-plane vault creation: a KMS key of its own, a paging key, and the initial grants. */
export async function createVault(store: VaultStore, keys: VaultKeys, input: CreateVaultInput): Promise<Vault> {
  if (!VAULT_NAME.test(input.name)) throw new Error(`invalid vault name '${input.name}': 3-24 letters, digits and single hyphens`);
  const retention = input.softDeleteRetentionDays ?? 90;
  if (!Number.isInteger(retention) || retention < 7 || retention > 90) throw new Error('soft-delete retention must be 7 to 90 days');
  const name = input.name.toLowerCase();
  const kmsKeyArn = await keys.createVaultKey(name, { 'coffer:tenant': input.tenantId });
  const pagingKey = await keys.generateDataKey(kmsKeyArn, pagingKeyContext(name));
  const roleAssignments: RoleAssignment[] = (input.grants ?? []).map((g) => ({ id: randomUUID(), scope: '/', ...g }));
  const vault: Vault = {
    name,
    tenantId: input.tenantId,
    kmsKeyArn,
    sku: input.sku ?? 'premium',
    softDeleteRetentionDays: retention,
    purgeProtection: input.purgeProtection ?? false,
    roleAssignments,
    pagingKeyCiphertext: pagingKey.ciphertext,
    created: Math.floor(Date.now() / 1000),
    strictAudit: input.strictAudit ?? false,
  };
  if (!(await store.createVault(vault))) throw new Error(`vault '${name}' already exists`);
  return vault;
}
