import { subscriptionResource, subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'ListEventSubscriptionsByResource',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const subscriptions = await services.eventSubscriptions.list(subscriptionVault(vault));
    return { body: { value: subscriptions.map(subscriptionResource) } };
  },
);
