import { managementOperation } from '#lib/runtime/management';
import { subscriptionWire } from '#lib/vaults/subscriptions-wire';

export const handler = managementOperation('ListSubscriptions', {}, async ({ principal, services }) => ({
  body: { value: (await services.subscriptions.visibleTo(principal)).map(subscriptionWire) },
}));
