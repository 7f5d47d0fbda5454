import { randomUUID } from 'node:crypto';
import type { AccessStore } from '../access/assignments.ts';
import { roleDefinitionId } from '../access/assignments.ts';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import { pagingKeyContext, VAULT_NAME, type Vault, type VaultStore, vaultResourceId } from './vault.ts';

/**
 * Direct vault creation for the local stack's bootstrap and the test and benchmark set-ups that run
 * before the management plane is up. Everything else creates vaults through the management API
 * (lib/vaults/manage.ts), which applies ARM's rules to the same record.
 */
export interface CreateVaultInput {
  name: string;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** The data-plane URL: `https://<name>.<vault domain>/` or a local endpoint. */
  vaultUri: string;
  sku?: 'standard' | 'premium';
  softDeleteRetentionDays?: number;
  purgeProtection?: boolean;
  /** Every request's audit record written to the audit store before its response (lib/vaults/vault.ts). */
  strictAudit?: boolean;
  /** Principals (object ids) and role definition GUIDs to grant at vault scope, as role assignments. */
  grants?: { principalId: string; roleDefinitionId: string }[];
}

export interface VaultKeys extends DataKeyProvider {
  createVaultKey(vaultName: string, tags: Record<string, string>): Promise<string>;
}

export async function createVault(
  store: VaultStore,
  keys: VaultKeys,
  access: Pick<AccessStore, 'createAssignment'>,
  input: CreateVaultInput,
): Promise<Vault> {
  if (!VAULT_NAME.test(input.name)) throw new Error(`invalid vault name '${input.name}': 3-24 letters, digits and single hyphens`);
  const retention = input.softDeleteRetentionDays ?? 90;
  if (!Number.isInteger(retention) || retention < 7 || retention > 90) throw new Error('soft-delete retention must be 7 to 90 days');
  const name = input.name.toLowerCase();
  const kmsKeyArn = await keys.createVaultKey(name, { 'coffer:tenant': input.tenantId });
  const pagingKey = await keys.generateDataKey(kmsKeyArn, pagingKeyContext(name));
  const vault: Vault = {
    name,
    tenantId: input.tenantId,
    subscriptionId: input.subscriptionId,
    resourceGroup: input.resourceGroup,
    location: input.location,
    vaultUri: input.vaultUri,
    enableRbacAuthorization: true,
    accessPolicies: [],
    publicNetworkAccess: 'Enabled',
    tags: {},
    revision: 1,
    kmsKeyArn,
    sku: input.sku ?? 'premium',
    softDeleteRetentionDays: retention,
    purgeProtection: input.purgeProtection ?? false,
    pagingKeyCiphertext: pagingKey.ciphertext,
    created: Math.floor(Date.now() / 1000),
    strictAudit: input.strictAudit ?? false,
  };
  if (!(await store.createVault(vault))) throw new Error(`vault '${name}' already exists`);
  const now = new Date().toISOString();
  for (const grant of input.grants ?? []) {
    await access.createAssignment({
      name: randomUUID(),
      scope: vaultResourceId(vault),
      roleDefinitionId: roleDefinitionId(input.subscriptionId, grant.roleDefinitionId),
      principalId: grant.principalId,
      principalType: 'ServicePrincipal',
      tenantId: input.tenantId,
      createdOn: now,
      updatedOn: now,
      createdBy: grant.principalId,
      updatedBy: grant.principalId,
    });
  }
  return vault;
}
