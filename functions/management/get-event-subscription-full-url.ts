import { subscriptionVault } from '#lib/events/subscription-wire';
import { managementOperation } from '#lib/runtime/management';

/** The webhook's URL with its query, which the subscription's own answers leave out. */
export const handler = managementOperation(
  'GetEventSubscriptionFullUrl',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, eventSubscriptionName, services }) => {
    const vault = await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '');
    return {
      body: {
        endpointUrl: await services.eventSubscriptions.fullUrl(subscriptionVault(vault), eventSubscriptionName ?? ''),
      },
    };
  },
);
