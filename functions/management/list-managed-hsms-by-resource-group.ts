import { poolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';
import { armPage } from '#lib/vaults/wire';

export const handler = poolManagementOperation(
  'ListManagedHsmsByResourceGroup',
  {},
  async ({ subscriptionId, resourceGroupName, query, management, services }) => {
    const path = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.KeyVault/managedHSMs`;
    const pools = await services.pools.list(subscriptionId ?? '', resourceGroupName ?? '');
    return { body: armPage(pools, query, `${management.baseUrl}${path}`, poolResource) };
  },
);
