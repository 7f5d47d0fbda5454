import { subscriptionResource } from '#lib/events/subscriptions';
import { managementOperation } from '#lib/runtime/management';
import { vaultResourceId } from '#lib/vaults/vault';

export const handler = managementOperation(
  'ListEventSubscriptionsByResource',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const subscriptions = await services.eventSubscriptions.list({ name: vault.name, resourceId: vaultResourceId(vault) });
    return { body: { value: subscriptions.map(subscriptionResource) } };
  },
);
