/**
 * Creates a vault through Coffer's management API, as any ARM client does (`@azure/arm-keyvault`), and
 * grants Key Vault Administrator on it through the role-assignment API (`@azure/arm-authorization`):
 *
 *   npx tsx scripts/create-vault.ts --name payments [--admin <object id> ...] [--sku premium|standard]
 *       [--retention-days 90] [--purge-protection] [--access-policies] [--location eastus]
 *       [--local .coffer/local.json]
 *       [--endpoint <management URL> --scope <management scope> --subscription <id> --resource-group <name> --tenant <id>]
 *
 * With `--local` (the default when no --endpoint is given) everything comes from the local stack's
 * `local.json`: the management URL and scope, the subscription, the resource group, and the
 * administrator's credential. Against a deployed stack, the caller signs in with the Azure identity
 * library's default credential chain and needs Owner, Contributor or Key Vault Contributor in the
 * subscription (or be a tenant administrator); granting roles also needs Owner or User Access
 * Administrator. The script writes no database item and no KMS key itself: the vault service does.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { roleIds } from '../lib/access/roles.ts';

const localSchema = z.object({
  managementUrl: z.string(),
  managementScope: z.string(),
  subscriptionId: z.string(),
  resourceGroup: z.string(),
  tenantId: z.string(),
  authorityHost: z.string(),
  clientId: z.string(),
  clientSecret: z.string(),
  objectId: z.string(),
});

interface Target {
  endpoint: string;
  scope: string;
  subscriptionId: string;
  resourceGroup: string;
  tenantId: string;
  credential: TokenCredential;
  /** Granted Key Vault Administrator besides any --admin. */
  administrators: string[];
}

function target(values: Record<string, string | boolean | string[] | undefined>): Target {
  if (typeof values.endpoint === 'string') {
    const { scope, subscription, 'resource-group': resourceGroup, tenant } = values;
    if (typeof scope !== 'string' || typeof subscription !== 'string' || typeof resourceGroup !== 'string' || typeof tenant !== 'string') {
      throw new Error('--endpoint needs --scope, --subscription, --resource-group and --tenant');
    }
    return {
      endpoint: values.endpoint,
      scope,
      subscriptionId: subscription,
      resourceGroup,
      tenantId: tenant,
      credential: new DefaultAzureCredential(),
      administrators: [],
    };
  }
  const local = localSchema.parse(JSON.parse(readFileSync(typeof values.local === 'string' ? values.local : '.coffer/local.json', 'utf8')));
  return {
    endpoint: local.managementUrl,
    scope: local.managementScope,
    subscriptionId: local.subscriptionId,
    resourceGroup: typeof values['resource-group'] === 'string' ? values['resource-group'] : local.resourceGroup,
    tenantId: local.tenantId,
    credential: new ClientSecretCredential(local.tenantId, local.clientId, local.clientSecret, {
      authorityHost: local.authorityHost,
      disableInstanceDiscovery: true,
    }),
    administrators: [local.objectId],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      admin: { type: 'string', multiple: true, default: [] },
      sku: { type: 'string', default: 'premium' },
      location: { type: 'string', default: 'eastus' },
      'retention-days': { type: 'string', default: '90' },
      'purge-protection': { type: 'boolean', default: false },
      'access-policies': { type: 'boolean', default: false },
      local: { type: 'string' },
      endpoint: { type: 'string' },
      scope: { type: 'string' },
      subscription: { type: 'string' },
      'resource-group': { type: 'string' },
      tenant: { type: 'string' },
    },
  });
  if (!values.name)
    throw new Error('usage: create-vault --name <vault> [--admin <object id>]... (see the comment at the top of scripts/create-vault.ts)');
  const to = target(values);
  const options = { endpoint: to.endpoint, credentials: { scopes: [to.scope] } };
  const vaults = new KeyVaultManagementClient(to.credential, to.subscriptionId, options);
  const vault = await vaults.vaults.createOrUpdate(to.resourceGroup, values.name, {
    location: values.location,
    properties: {
      tenantId: to.tenantId,
      sku: { family: 'A', name: values.sku as 'premium' | 'standard' },
      enableRbacAuthorization: !values['access-policies'],
      softDeleteRetentionInDays: Number(values['retention-days']),
      ...(values['purge-protection'] ? { enablePurgeProtection: true } : {}),
    },
  });
  const administrators = [...new Set([...to.administrators, ...values.admin])];
  if (!values['access-policies']) {
    const authorization = new AuthorizationManagementClient(to.credential, to.subscriptionId, {
      endpoint: to.endpoint,
      credentialScopes: [to.scope],
    });
    for (const principalId of administrators) {
      await authorization.roleAssignments.create(vault.id!, randomUUID(), {
        roleDefinitionId: `/subscriptions/${to.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.administrator}`,
        principalId,
      });
    }
  }
  process.stdout.write(`${JSON.stringify({ vault: vault.name, id: vault.id, vaultUri: vault.properties.vaultUri, administrators }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`create-vault: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
