import { managementOperation } from '#lib/runtime/management';
import { resourceGroupWire } from '#lib/vaults/subscriptions-wire';

export const handler = managementOperation('ListResourceGroups', {}, async ({ subscriptionId, services }) => ({
  body: { value: (await services.resourceGroups.list(subscriptionId ?? '')).map(resourceGroupWire) },
}));
