import { poolBody } from '#lib/hsm/pool-schemas';
import { poolResource } from '#lib/hsm/pool-wire';
import { poolManagementOperation } from '#lib/runtime/pool-management';

/**
 * ManagedHsms_CreateOrUpdate is long-running in Azure; Coffer provisions the pool within the request
 * and answers 200 with `provisioningState: Succeeded`, which ends arm-keyvault's poller at once.
 */
export const handler = poolManagementOperation(
  'CreateOrUpdateManagedHsm',
  { body: poolBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, name, body, services }) => ({
    body: poolResource(await services.pools.createOrUpdate(subscriptionId ?? '', resourceGroupName ?? '', name ?? '', body)),
  }),
);
