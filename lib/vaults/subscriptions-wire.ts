import type { ResourceGroup, Subscription } from './subscriptions.ts';

/**
 * ARM's shapes for subscriptions (Microsoft.Resources, api-version 2022-12-01) and resource groups
 * (2025-04-01), as @azure/arm-resources-subscriptions and @azure/arm-resources read them.
 */

export function subscriptionWire(subscription: Subscription) {
  return {
    id: `/subscriptions/${subscription.subscriptionId}`,
    subscriptionId: subscription.subscriptionId,
    tenantId: subscription.tenantId,
    displayName: subscription.displayName,
    state: 'Enabled',
    // What Azure answers for a pay-as-you-go subscription: clients that read the policies find them.
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
    authorizationSource: 'RoleBased',
  };
}

function resourceGroupId(group: Pick<ResourceGroup, 'subscriptionId' | 'name'>): string {
  return `/subscriptions/${group.subscriptionId}/resourceGroups/${group.name}`;
}

export function resourceGroupWire(group: ResourceGroup) {
  return {
    id: resourceGroupId(group),
    name: group.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: group.location,
    tags: group.tags,
    properties: { provisioningState: 'Succeeded' },
  };
}
