import { EventBridgeClient } from '../aws/api/eventbridge.ts';
import { DynamoEventSubscriptionStore } from '../aws/dynamo-event-subscriptions.ts';
import { EventBridgeSubscriptionRealizer } from '../aws/eventbridge-subscriptions.ts';
import { EventSubscriptions, type SubscriptionRealizer } from '../events/subscriptions.ts';
import { PolicyWebhookClient } from '../events/webhook-client.ts';
import type { SharedServices } from './services.ts';

/** Without a bus (a configuration that names none) a subscription cannot be realized: say so, never pretend. */
const noBus: SubscriptionRealizer = {
  realize: () => Promise.reject(new Error('no event bus is configured (COFFER_EVENT_BUS): event subscriptions cannot be realized')),
  remove: () => Promise.resolve(),
};

/**
 * A vault's event subscriptions, as the management root uses them and the scheduler's vault purge
 * does (a purged vault's subscriptions stop delivering): records in the objects table, rules on the
 * configured bus, the handshake under the configured webhook address policy.
 */
export function eventSubscriptionsOf(shared: SharedServices): EventSubscriptions {
  const cfg = shared.config;
  return new EventSubscriptions(
    new DynamoEventSubscriptionStore(shared.dynamo, cfg.objectsTable),
    cfg.eventBus
      ? new EventBridgeSubscriptionRealizer(new EventBridgeClient({ region: cfg.region }), {
          bus: cfg.eventBus,
          ...(cfg.eventDeliveryRoleArn ? { roleArn: cfg.eventDeliveryRoleArn } : {}),
          ...(cfg.eventDeadLetterQueueArn ? { deadLetterQueueArn: cfg.eventDeadLetterQueueArn } : {}),
        })
      : noBus,
    new PolicyWebhookClient(cfg.webhookAddresses),
  );
}
