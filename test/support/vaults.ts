import { randomUUID } from 'node:crypto';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import type { LocalStackInfo } from '../../dev/stack.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { adminSecretCredential, localStack, uniqueName } from './local.ts';

/** The management API's clients as the administrator (Owner of the local subscription) uses them. */
export function managementClients(info = localStack()) {
  const credential = adminSecretCredential(info);
  return {
    vaults: new KeyVaultManagementClient(credential, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    }),
    authorization: new AuthorizationManagementClient(credential, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentialScopes: [info.managementScope],
    }),
  };
}

/**
 * Another vault in the local stack, created through the management API as a vault owner creates one
 * (an RBAC vault in the default resource group), granting the administrator Key Vault Administrator
 * on it. Requests reach it by its host name (`host`) or at its `vaultUri`, a local endpoint of its own.
 */
export async function createLocalVault(
  prefix: string,
  options: { sku?: 'standard' | 'premium'; strictAudit?: boolean } = {},
  info = localStack(),
): Promise<{ name: string; host: string; vaultUri: string }> {
  const name = uniqueName(prefix).replace(/-/g, '').slice(0, 24);
  const clients = managementClients(info);
  const vault = await clients.vaults.vaults.createOrUpdate(info.resourceGroup, name, {
    location: 'eastus',
    properties: { tenantId: info.tenantId, sku: { family: 'A', name: options.sku ?? 'premium' }, enableRbacAuthorization: true },
  });
  // Strict audit is the deployment's choice, not an ARM property: set on the record before any request reads (and caches) the vault.
  if (options.strictAudit) await makeStrict(info, name);
  await clients.authorization.roleAssignments.create(vault.id!, randomUUID(), {
    roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.administrator}`,
    principalId: info.objectId,
    principalType: 'ServicePrincipal',
  });
  return { name, host: `${name}.${info.vaultDomain}`, vaultUri: vault.properties.vaultUri! };
}

async function makeStrict(info: LocalStackInfo, name: string): Promise<void> {
  const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    const store = new DynamoVaultStore(dynamo, info.tables.objects);
    const vault = await store.getVault(name);
    if (!vault || !(await store.updateVault({ ...vault, strictAudit: true, revision: vault.revision + 1 }, vault.revision))) {
      throw new Error(`vault ${name} could not be made strict`);
    }
  } finally {
    dynamo.destroy();
  }
}
