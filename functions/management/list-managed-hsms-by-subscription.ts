import { poolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';
import { armPage } from '#lib/vaults/wire';

export const handler = poolManagementOperation('ListManagedHsmsBySubscription', {}, async ({ subscriptionId, query, management, services }) => {
  const path = `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/managedHSMs`;
  return { body: armPage(await services.pools.list(subscriptionId ?? ''), query, `${management.baseUrl}${path}`, poolResource) };
});
