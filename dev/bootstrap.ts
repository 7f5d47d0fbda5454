import { randomUUID } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { roleIds } from '#lib/access/roles';
import { DynamoDBDocumentClient } from '#lib/aws/api/dynamodb';
import { KMSClient as CofferKmsClient } from '#lib/aws/api/kms';
import { subscriptionScope } from '#lib/access/scopes';
import { DynamoAccessStore } from '#lib/aws/dynamo-access';
import { DynamoResourceGroupStore } from '#lib/aws/dynamo-resource-groups';
import { DynamoVaultStore } from '#lib/aws/dynamo-vaults';
import { KmsKeyProtection } from '#lib/aws/kms';
import { grantRole } from '#lib/vaults/grants';
import { VaultManager } from '#lib/vaults/manage';
import { type Vault, type VaultStore, vaultResourceId } from '#lib/vaults/vault';
import { readFileIfExists, writePrivateFile } from './files.ts';
import type { IdentityProvider } from './idp/server.ts';
import {
  type AwsCredentials,
  BACKUP_KEY_ALIAS,
  DEFAULT_RESOURCE_GROUP,
  DEFAULT_VAULT,
  LOCAL_CREDENTIALS,
  REGION,
  TABLES,
  VAULT_DOMAIN,
} from './local-environment.ts';

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
  /**
   * A principal nobody grants anything, ever: what "no role at all" looks like (the unprivileged one
   * is handed roles by tests and walk-throughs to show a grant).
   */
  roleless: { clientId: string; clientSecret: string; objectId: string };
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
  localKms: { endpoint: string; credentials: AwsCredentials },
  idp: IdentityProvider,
  defaultVault: DefaultVaultOptions = {},
): Promise<BootstrapState> {
  const state = await ensureBootstrapState(statePath, idp);

  // The local KMS accepts only the stack's own credential; DynamoDB Local accepts any.
  const kms = new KMSClient({ endpoint: localKms.endpoint, region: REGION, credentials: localKms.credentials });
  // The vault is written with the functions' own clients; the SDK's sets up what they never do (the alias).
  const vaultKms = new CofferKmsClient({ endpoint: localKms.endpoint, region: REGION, credentials: () => localKms.credentials });
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
    const access = new DynamoAccessStore(dynamo, TABLES.objects);
    await ensureDefaultVault(vaults, new KmsKeyProtection(vaultKms), access, state, defaultVault);
    // The administrator owns the subscription (a grant it already holds changes nothing).
    await grantRole(access, {
      scope: subscriptionScope(state.subscriptionId),
      subscriptionId: state.subscriptionId,
      role: roleIds.owner,
      principalId: state.admin.objectId,
      tenantId: state.tenantId,
    });
  } finally {
    kms.destroy();
    vaultKms.destroy();
    dynamo.destroy();
  }
  return state;
}

/**
 * The default vault, made by the vault service as the management API makes one (an RBAC vault in the
 * default resource group), granting the administrator and the managed identity Key Vault
 * Administrator. It has no endpoint of the pool: it is the vault the gateway's own port serves (the
 * `localhost` host alias), so its `vaultUri` is its host name. A vault from before subscriptions is
 * upgraded in place, keeping its keys and objects.
 */
async function ensureDefaultVault(
  vaults: VaultStore,
  keys: KmsKeyProtection,
  access: DynamoAccessStore,
  state: BootstrapState,
  options: DefaultVaultOptions,
): Promise<void> {
  const existing = await vaults.getVault(DEFAULT_VAULT);
  if (existing?.subscriptionId) return;
  let vault: Vault;
  if (existing) {
    const { roleAssignments: _legacy, ...kept } = existing as Vault & { roleAssignments?: unknown };
    vault = {
      ...kept,
      subscriptionId: state.subscriptionId,
      resourceGroup: DEFAULT_RESOURCE_GROUP,
      location: 'eastus',
      vaultUri: `https://${DEFAULT_VAULT}.${VAULT_DOMAIN}/`,
      enableRbacAuthorization: true,
      accessPolicies: [],
      publicNetworkAccess: 'Enabled',
      tags: {},
      revision: 1,
    };
    if (!(await vaults.updateVault(vault, existing.revision ?? 0))) throw new Error('the default vault changed while it was being upgraded');
  } else {
    const manager = new VaultManager(vaults, keys, { vaultDomain: VAULT_DOMAIN, vaultEndpoints: [], tenantOf: () => state.tenantId });
    const body = {
      location: 'eastus',
      properties: { tenantId: state.tenantId, sku: { family: 'A', name: 'premium' }, enableRbacAuthorization: true },
    };
    vault = (
      await manager.createOrUpdate(state.subscriptionId, DEFAULT_RESOURCE_GROUP, DEFAULT_VAULT, body, { strictAudit: options.strictAudit ?? false })
    ).vault;
  }
  for (const principalId of [state.admin.objectId, state.managedIdentity.objectId]) {
    await grantRole(access, {
      scope: vaultResourceId(vault),
      subscriptionId: state.subscriptionId,
      role: roleIds.administrator,
      principalId,
      tenantId: state.tenantId,
    });
  }
}

/** The state file, written on the first start and completed in place when it predates a field. */
export async function ensureBootstrapState(statePath: string, idp: IdentityProvider): Promise<BootstrapState> {
  const saved = await readFileIfExists(statePath);
  if (saved !== undefined) {
    const state = JSON.parse(saved) as Partial<BootstrapState> & Omit<BootstrapState, 'subscriptionId' | 'roleless'>;
    if (state.subscriptionId && state.roleless) return state as BootstrapState;
    // A data directory from before subscriptions (or the role-less principal) keeps its tenant and principals and gains them.
    const upgraded: BootstrapState = {
      ...state,
      subscriptionId: state.subscriptionId ?? randomUUID(),
      roleless: state.roleless ?? (await registerRoleless(idp, state.tenantId)),
    };
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
    roleless: await registerRoleless(idp, tenantId),
  };
  await writePrivateFile(statePath, JSON.stringify(state, null, 2));
  return state;
}

async function registerRoleless(idp: IdentityProvider, tenantId: string): Promise<BootstrapState['roleless']> {
  const principal = await idp.registerServicePrincipal(tenantId, { displayName: 'coffer-roleless', secret: true });
  return { clientId: principal.clientId, clientSecret: principal.clientSecret!, objectId: principal.objectId };
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
