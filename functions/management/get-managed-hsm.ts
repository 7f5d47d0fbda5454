import { poolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';

export const handler = poolManagementOperation('GetManagedHsm', {}, async ({ subscriptionId, resourceGroupName, name, services }) => ({
  body: poolResource(await services.pools.get(subscriptionId ?? '', resourceGroupName ?? '', name ?? '')),
}));
