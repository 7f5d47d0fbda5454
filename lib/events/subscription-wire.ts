import type { Vault } from '../vaults/vault.ts';
import { vaultResourceId } from '../vaults/vault.ts';
import { EVENT_SUBSCRIPTION_TYPE, type EventSubscription, endpointBaseUrl, type SubscriptionVault } from './subscriptions.ts';

/** Event subscriptions' wire shapes: the resource Azure answers, and the vault a management path names as their topic. */
export function subscriptionVault(vault: Pick<Vault, 'name' | 'subscriptionId' | 'resourceGroup'>): SubscriptionVault {
  return { name: vault.name, resourceId: vaultResourceId(vault) };
}

function subscriptionResourceId(topic: string, name: string): string {
  return `${topic}/providers/${EVENT_SUBSCRIPTION_TYPE}/${name}`;
}

/** The EventSubscription resource as Azure answers it: never the full URL (getFullUrl answers that). */
export function subscriptionResource(subscription: EventSubscription): Record<string, unknown> {
  const filter = subscription.filter;
  return {
    id: subscriptionResourceId(subscription.topic, subscription.name),
    name: subscription.name,
    type: EVENT_SUBSCRIPTION_TYPE,
    properties: {
      topic: subscription.topic,
      provisioningState: 'Succeeded',
      destination: {
        endpointType: 'WebHook',
        properties: { endpointBaseUrl: endpointBaseUrl(subscription.endpointUrl), maxEventsPerBatch: 1, preferredBatchSizeInKilobytes: 64 },
      },
      filter: {
        ...(filter.includedEventTypes ? { includedEventTypes: filter.includedEventTypes } : {}),
        ...(filter.subjectBeginsWith ? { subjectBeginsWith: filter.subjectBeginsWith } : {}),
        ...(filter.subjectEndsWith ? { subjectEndsWith: filter.subjectEndsWith } : {}),
        isSubjectCaseSensitive: filter.isSubjectCaseSensitive,
        enableAdvancedFilteringOnArrays: false,
      },
      labels: subscription.labels,
      eventDeliverySchema: subscription.eventDeliverySchema,
      retryPolicy: subscription.retryPolicy,
      ...(subscription.expirationTimeUtc ? { expirationTimeUtc: subscription.expirationTimeUtc } : {}),
    },
    systemData: { createdAt: subscription.createdAt, lastModifiedAt: subscription.updatedAt },
  };
}
