import { subscriptionResource } from '#lib/events/subscriptions';
import { managementOperation } from '#lib/runtime/management';
import { vaultResourceId } from '#lib/vaults/vault';

export const handler = managementOperation(
  'GetEventSubscription',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    return {
      body: subscriptionResource(
        await services.eventSubscriptions.get({ name: vault.name, resourceId: vaultResourceId(vault) }, eventSubscriptionName ?? ''),
      ),
    };
  },
);
