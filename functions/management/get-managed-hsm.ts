import { poolResource } from '#lib/hsm/pool-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('GetManagedHsm', {}, async ({ subscriptionId, resourceGroupName, name, services }) => ({
  body: poolResource(await services.pools.get(subscriptionId ?? '', resourceGroupName ?? '', name ?? '')),
}));
