import { managementOperation } from '#lib/runtime/management';
import { armPage, vaultResource } from '#lib/vaults/wire';

export const handler = managementOperation(
  'ListVaultsByResourceGroup',
  {},
  async ({ subscriptionId, resourceGroupName, query, management, services }) => {
    const path = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.KeyVault/vaults`;
    const vaults = await services.vaults.list(subscriptionId ?? '', resourceGroupName ?? '');
    return { body: armPage(vaults, query, `${management.baseUrl}${path}`, vaultResource) };
  },
);
