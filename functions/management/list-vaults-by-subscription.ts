import { managementOperation } from '#lib/runtime/management';
import { armPage, vaultResource } from '#lib/vaults/wire';

export const handler = managementOperation('ListVaultsBySubscription', {}, async ({ subscriptionId, query, management, services }) => {
  const path = `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/vaults`;
  return { body: armPage(await services.vaults.list(subscriptionId ?? ''), query, `${management.baseUrl}${path}`, vaultResource) };
});
