import { deletedPoolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';

export const handler = poolManagementOperation('GetDeletedManagedHsm', {}, async ({ subscriptionId, location, name, services }) => ({
  body: deletedPoolResource(await services.pools.getDeleted(subscriptionId ?? '', location ?? '', name ?? '')),
}));
