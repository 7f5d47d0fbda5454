import { subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

/** 200 when it was deleted, 204 when there was none (a retried delete): both end the client's long-running operation. */
export const handler = managementOperation(
  'DeleteEventSubscription',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    const deleted = await services.eventSubscriptions.delete(subscriptionVault(vault), eventSubscriptionName ?? '');
    return { status: deleted ? 200 : 204 };
  },
);
