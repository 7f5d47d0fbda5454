import { poolBody } from '#lib/hsm/pool-schemas';
import { poolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';

export const handler = poolManagementOperation(
  'UpdateManagedHsm',
  { body: poolBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, name, body, services }) => ({
    body: poolResource(await services.pools.update(subscriptionId ?? '', resourceGroupName ?? '', name ?? '', body)),
  }),
);
