import { eventSubscriptionBody } from '#lib/events/subscription-schemas';
import { subscriptionResource, subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'UpdateEventSubscription',
  { body: eventSubscriptionBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, body, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const subscription = await services.eventSubscriptions.update(subscriptionVault(vault), eventSubscriptionName ?? '', body);
    return { body: subscriptionResource(subscription) };
  },
);
