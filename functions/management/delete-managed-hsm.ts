import { poolManagementOperation } from '#lib/runtime/pool-management';

/** A pool is always soft-deleted: 200 when it was, 204 when there was none (both end arm-keyvault's poller at once). */
export const handler = poolManagementOperation('DeleteManagedHsm', {}, async ({ subscriptionId, resourceGroupName, name, services }) => ({
  status: (await services.pools.delete(subscriptionId ?? '', resourceGroupName ?? '', name ?? '')) ? 200 : 204,
}));
