import { deletedPoolResource } from '#lib/hsm/pool-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('GetDeletedManagedHsm', {}, async ({ subscriptionId, location, name, services }) => ({
  body: deletedPoolResource(await services.pools.getDeleted(subscriptionId ?? '', location ?? '', name ?? '')),
}));
