import { type EventGridEvent, KEY_VAULT_EVENT_SOURCE } from '../events/events.ts';
import type { EventPublisher } from '../events/publish.ts';
import { type EventBridgeClient, PUT_EVENTS_MAX_ENTRIES } from './api/eventbridge.ts';

/**
 * Key Vault's events onto the deployment's EventBridge bus: each event is one entry whose detail
 * is the Event Grid event itself and whose detail-type is its event type, so a rule matches on
 * `detail-type` (or `detail.subject`, `detail.topic`) the way an Event Grid subscription filters.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: EventGridEvent[]): Promise<{ failed: EventGridEvent[] }> {
    const failed: EventGridEvent[] = [];
    for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) {
      const batch = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
      try {
        const answer = await this.client.putEvents(
          batch.map((event) => ({
            Source: KEY_VAULT_EVENT_SOURCE,
            DetailType: event.eventType,
            Detail: JSON.stringify(event),
            EventBusName: this.busName,
            Resources: [event.topic],
            Time: Math.floor(Date.parse(event.eventTime) / 1000),
          })),
        );
        // An entry without an EventId was not put (EventBridge answers the others' ids in order).
        batch.forEach((event, index) => {
          if (!answer.Entries?.[index]?.EventId) failed.push(event);
        });
      } catch {
        // The whole request failed (the client already retried what it could): the stream hands them again.
        failed.push(...batch);
      }
    }
    return { failed };
  }
}
