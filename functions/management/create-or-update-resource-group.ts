import { managementOperation } from '#lib/runtime/management';
import { resourceGroupBody } from '#lib/vaults/resource-groups-schemas';
import { resourceGroupWire } from '#lib/vaults/subscriptions-wire';

export const handler = managementOperation(
  'CreateOrUpdateResourceGroup',
  { body: resourceGroupBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, body, services }) => {
    const { group, created } = await services.resourceGroups.createOrUpdate(subscriptionId ?? '', resourceGroupName ?? '', body);
    return { status: created ? 201 : 200, body: resourceGroupWire(group) };
  },
);
