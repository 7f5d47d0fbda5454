import { managementOperation } from '#lib/runtime/management';
import { operationHeaders } from '#lib/vaults/operations-wire';

/**
 * Vaults_PurgeDeleted is a long-running operation: the purge finishes within the request, then the
 * 202 hands out its operation, which already answers Succeeded when arm-keyvault's poller first asks.
 */
export const handler = managementOperation('PurgeDeletedVault', {}, async ({ subscriptionId, location, vaultName, query, management, services }) => {
  const [subscription, at, name] = [subscriptionId ?? '', location ?? '', vaultName ?? ''];
  const operation = await services.vaultOperations.run(subscription, at, 'purge', name, () => services.vaults.purge(subscription, at, name));
  return { status: 202, headers: operationHeaders(operation, management.baseUrl, query['api-version'] ?? '') };
});
