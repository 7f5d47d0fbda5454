import { ROTATION_EVENT_SOURCE, rotationFailedEvent } from '../rotation/failure-event.ts';
import type { RotationFailure } from '../rotation/rotation.ts';
import type { EventBridgeClient } from './api/eventbridge.ts';

/**
 * The rotator's failure events onto the deployment's bus (the local EventBridge in the local stack),
 * one PutEvents entry each, its detail the event itself, as Key Vault's events are put
 * (lib/aws/eventbridge-publisher.ts). An entry the bus did not take is an error the rotator logs.
 */
export function rotationFailurePublisher(client: EventBridgeClient, busName: string, vaultUrl: string) {
  return async (failure: RotationFailure): Promise<void> => {
    const event = rotationFailedEvent(vaultUrl, failure);
    const answer = await client.putEvents([
      {
        Source: ROTATION_EVENT_SOURCE,
        DetailType: event.eventType,
        Detail: JSON.stringify(event),
        EventBusName: busName,
        Time: Math.floor(Date.parse(event.eventTime) / 1000),
      },
    ]);
    const entry = answer.Entries?.[0];
    if (!entry?.EventId) throw new Error(`the bus did not take the failure event (${entry?.ErrorCode ?? 'no answer'})`);
  };
}
