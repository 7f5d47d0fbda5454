import { poolBody } from '#lib/hsm/pool-schemas';
import { poolResource } from '#lib/hsm/pool-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'UpdateManagedHsm',
  { body: poolBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, name, body, services }) => ({
    body: poolResource(await services.pools.update(subscriptionId ?? '', resourceGroupName ?? '', name ?? '', body)),
  }),
);
