import { managementOperation } from '#lib/runtime/management';
import { subscriptionWire } from '#lib/vaults/subscriptions-wire';

export const handler = managementOperation('GetSubscription', {}, async ({ subscriptionId, services }) => ({
  body: subscriptionWire(services.subscriptions.get(subscriptionId ?? '')),
}));
