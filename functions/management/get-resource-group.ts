import { managementOperation } from '#lib/runtime/management';
import { resourceGroupWire } from '#lib/vaults/subscriptions-wire';

export const handler = managementOperation('GetResourceGroup', {}, async ({ subscriptionId, resourceGroupName, services }) => ({
  body: resourceGroupWire(await services.resourceGroups.get(subscriptionId ?? '', resourceGroupName ?? '')),
}));
