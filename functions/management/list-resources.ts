import { managementOperation } from '#lib/runtime/management';
import { armPage, genericResource, resourceTypeFilter } from '#lib/vaults/wire';

/** Vaults are the only resources a subscription holds: a filter on another resource type lists none. */
export const handler = managementOperation('ListResources', {}, async ({ subscriptionId, query, management, services }) => {
  const wanted = resourceTypeFilter(query.$filter);
  const vaults = wanted === undefined || wanted === 'microsoft.keyvault/vaults' ? await services.vaults.list(subscriptionId ?? '') : [];
  return { body: armPage(vaults, query, `${management.baseUrl}/subscriptions/${subscriptionId}/resources`, genericResource) };
});
