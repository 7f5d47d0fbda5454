import { subscriptionResource, subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'GetEventSubscription',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    return {
      body: subscriptionResource(await services.eventSubscriptions.get(subscriptionVault(vault), eventSubscriptionName ?? '')),
    };
  },
);
