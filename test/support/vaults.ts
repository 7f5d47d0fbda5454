import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { roleIds } from '../../lib/access/rbac.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { KMSClient } from '../../lib/aws/api/kms.ts';
import { KmsKeyProtection } from '../../lib/aws/kms.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { type CreateVaultInput, createVault } from '../../lib/vaults/create.ts';
import { localStack, uniqueName } from './local.ts';

/**
 * Another vault in the local stack, made as the control plane makes one (scripts/create-vault.ts),
 * granting the administrator Key Vault Administrator. Requests reach it by its host name.
 */
export async function createLocalVault(
  prefix: string,
  options: Pick<CreateVaultInput, 'sku' | 'strictAudit'> = {},
): Promise<{ name: string; host: string }> {
  const info = localStack();
  const name = uniqueName(prefix).replace(/-/g, '');
  const kms = new KMSClient({ endpoint: info.endpoints.kms, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    await createVault(new DynamoVaultStore(dynamo, info.tables.objects), new KmsKeyProtection(kms), {
      name,
      tenantId: info.tenantId,
      ...options,
      grants: [{ principalId: info.objectId, roleDefinitionId: roleIds.administrator }],
    });
  } finally {
    kms.destroy();
    dynamo.destroy();
  }
  return { name, host: `${name}.${info.vaultDomain}` };
}
