import { managementOperation } from '#lib/runtime/management';

/** 200 with no body: the group is gone when the answer leaves, so ARM's poller has nothing to follow. */
export const handler = managementOperation('DeleteResourceGroup', {}, async ({ subscriptionId, resourceGroupName, services }) => {
  await services.resourceGroups.delete(subscriptionId ?? '', resourceGroupName ?? '');
  return { status: 200 };
});
