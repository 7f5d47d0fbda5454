import { managementOperation } from '#lib/runtime/management';
import { armPage, deletedVaultResource } from '#lib/vaults/wire';

export const handler = managementOperation('ListDeletedVaults', {}, async ({ subscriptionId, query, management, services }) => {
  const path = `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/deletedVaults`;
  return { body: armPage(await services.vaults.listDeleted(subscriptionId ?? ''), query, `${management.baseUrl}${path}`, deletedVaultResource) };
});
