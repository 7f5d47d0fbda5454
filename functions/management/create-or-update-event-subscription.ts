import { eventSubscriptionBody } from '#lib/events/subscription-schemas';
import { subscriptionResource, subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'CreateOrUpdateEventSubscription',
  { body: eventSubscriptionBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, body, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const { subscription, created } = await services.eventSubscriptions.createOrUpdate(subscriptionVault(vault), eventSubscriptionName ?? '', body);
    return { status: created ? 201 : 200, body: subscriptionResource(subscription) };
  },
);
