import { managementOperation } from '#lib/runtime/management';
import { accessPolicyUpdateBody } from '#lib/vaults/schemas';
import { accessPolicyResource } from '#lib/vaults/wire';

export const handler = managementOperation(
  'UpdateVaultAccessPolicy',
  { body: accessPolicyUpdateBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, operationKind, body, services }) => {
    const kind = operationKind ?? '';
    const vault = await services.vaults.updateAccessPolicy(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '', kind, body);
    return { body: accessPolicyResource(vault, kind) };
  },
);
