import { poolManagementOperation } from '#lib/runtime/pool-management';
import { operationHeaders } from '#lib/vaults/operations-wire';

/**
 * ManagedHsms_PurgeDeleted is long-running: the purge finishes within the request, then the 202 hands
 * out its operation, which GetVaultOperationResult already answers Succeeded when the poller asks.
 */
export const handler = poolManagementOperation(
  'PurgeDeletedManagedHsm',
  {},
  async ({ subscriptionId, location, name, query, management, services }) => {
    const [subscription, at, pool] = [subscriptionId ?? '', location ?? '', name ?? ''];
    const operation = await services.vaultOperations.run(subscription, at, 'purgeManagedHsm', pool, () =>
      services.pools.purge(subscription, at, pool),
    );
    return { status: 202, headers: operationHeaders(operation, management.baseUrl, query['api-version'] ?? '') };
  },
);
