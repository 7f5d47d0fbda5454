import { deletedPoolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';
import { armPage } from '#lib/vaults/wire';

export const handler = poolManagementOperation('ListDeletedManagedHsms', {}, async ({ subscriptionId, query, management, services }) => {
  const path = `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/deletedManagedHSMs`;
  return { body: armPage(await services.pools.listDeleted(subscriptionId ?? ''), query, `${management.baseUrl}${path}`, deletedPoolResource) };
});
