import { randomUUID } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { roleIds } from '#lib/access/rbac';
import { DynamoDBDocumentClient } from '#lib/aws/api/dynamodb';
import { KMSClient as CofferKmsClient } from '#lib/aws/api/kms';
import { DynamoResourceGroupStore } from '#lib/aws/dynamo-resource-groups';
import { DynamoVaultStore } from '#lib/aws/dynamo-vaults';
import { KmsKeyProtection } from '#lib/aws/kms';
import { createVault } from '#lib/vaults/create';
import { readFileIfExists, writePrivateFile } from './files.ts';
import type { IdentityProvider } from './idp/server.ts';
import { BACKUP_KEY_ALIAS, DEFAULT_RESOURCE_GROUP, DEFAULT_VAULT, LOCAL_CREDENTIALS, REGION, TABLES } from './local-environment.ts';

/** Who the local stack knows, registered once in the identity provider and kept in `identity/bootstrap.json`. */
export interface BootstrapState {
  tenantId: string;
  /**
   * The local subscription (in the tenant above), made once: ARM clients address vaults through it,
   * and the administrator is its Owner (docs/adr/0013).
   */
  subscriptionId: string;
  admin: { clientId: string; clientSecret: string; objectId: string; certificateFile: string };
  managedIdentity: { clientId: string; objectId: string };
  unprivileged: { clientId: string; clientSecret: string; objectId: string };
}

/** Choices for the default vault, taken when the first start creates it. */
export interface DefaultVaultOptions {
  /** Every request's audit record written to the audit table before its response (lib/vaults/vault.ts). */
  strictAudit?: boolean;
}

/**
 * First start: a tenant and its subscription, an administrator service principal (secret and certificate), a managed
 * identity, an unprivileged principal, the backup key, and the default vault granting the first two
 * Key Vault Administrator. Later starts find all of it in place and change nothing.
 */
export async function bootstrap(
  statePath: string,
  dynamoEndpoint: string,
  kmsEndpoint: string,
  idp: IdentityProvider,
  defaultVault: DefaultVaultOptions = {},
): Promise<BootstrapState> {
  const state = await ensureBootstrapState(statePath, idp);

  const kms = new KMSClient({ endpoint: kmsEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  // The vault is written with the functions' own clients; the SDK's sets up what they never do (the alias).
  const vaultKms = new CofferKmsClient({ endpoint: kmsEndpoint, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  const dynamo = new DynamoDBDocumentClient({ endpoint: dynamoEndpoint, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    await ensureKeyAlias(kms, BACKUP_KEY_ALIAS, 'Coffer backups: protects backup blobs so they restore within their tenant');
    // The default vault's resource group; a conditional create, so later starts keep it as it is.
    await new DynamoResourceGroupStore(dynamo, TABLES.objects).createResourceGroup({
      subscriptionId: state.subscriptionId,
      name: DEFAULT_RESOURCE_GROUP,
      location: 'eastus',
      tags: {},
    });
    const vaults = new DynamoVaultStore(dynamo, TABLES.objects);
    if (!(await vaults.getVault(DEFAULT_VAULT))) {
      await createVault(vaults, new KmsKeyProtection(vaultKms), {
        name: DEFAULT_VAULT,
        tenantId: state.tenantId,
        sku: 'premium',
        strictAudit: defaultVault.strictAudit ?? false,
        grants: [
          { principalId: state.admin.objectId, roleDefinitionId: roleIds.administrator },
          { principalId: state.managedIdentity.objectId, roleDefinitionId: roleIds.administrator },
        ],
      });
    }
  } finally {
    kms.destroy();
    vaultKms.destroy();
    dynamo.destroy();
  }
  return state;
}

/** The state file, written on the first start and completed in place when it predates a field. */
export async function ensureBootstrapState(statePath: string, idp: IdentityProvider): Promise<BootstrapState> {
  const saved = await readFileIfExists(statePath);
  if (saved !== undefined) {
    const state = JSON.parse(saved) as Omit<BootstrapState, 'subscriptionId'> & { subscriptionId?: string };
    if (state.subscriptionId) return state as BootstrapState;
    // A data directory from before subscriptions keeps its tenant and principals and gains one.
    const upgraded: BootstrapState = { ...state, subscriptionId: randomUUID() };
    await writePrivateFile(statePath, JSON.stringify(upgraded, null, 2));
    return upgraded;
  }
  const tenantId = await idp.ensureDefaultTenant();
  const admin = await idp.registerServicePrincipal(tenantId, { displayName: 'coffer-admin', secret: true, certificate: true });
  const managed = await idp.registerManagedIdentity(tenantId, { displayName: 'coffer-local-identity', systemAssigned: true });
  const other = await idp.registerServicePrincipal(tenantId, { displayName: 'coffer-unprivileged', secret: true });
  const state: BootstrapState = {
    tenantId,
    subscriptionId: randomUUID(),
    admin: { clientId: admin.clientId, clientSecret: admin.clientSecret!, objectId: admin.objectId, certificateFile: admin.certificateFile! },
    managedIdentity: { clientId: managed.clientId, objectId: managed.objectId },
    unprivileged: { clientId: other.clientId, clientSecret: other.clientSecret!, objectId: other.objectId },
  };
  await writePrivateFile(statePath, JSON.stringify(state, null, 2));
  return state;
}

async function ensureKeyAlias(kms: KMSClient, alias: string, description: string): Promise<void> {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: alias }));
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Description: description }));
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata!.KeyId! }));
  }
}
