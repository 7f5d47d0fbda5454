import { eventSubscriptionBody, subscriptionResource } from '#lib/events/subscriptions';
import { managementOperation } from '#lib/runtime/management';
import { vaultResourceId } from '#lib/vaults/vault';

export const handler = managementOperation(
  'CreateOrUpdateEventSubscription',
  { body: eventSubscriptionBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, body, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const { subscription, created } = await services.eventSubscriptions.createOrUpdate(
      { name: vault.name, resourceId: vaultResourceId(vault) },
      eventSubscriptionName ?? '',
      body,
    );
    return { status: created ? 201 : 200, body: subscriptionResource(subscription) };
  },
);
