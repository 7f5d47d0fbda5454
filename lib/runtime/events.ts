import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgeClient } from '../aws/api/eventbridge.ts';
import { dynamoDocumentClient } from '../aws/clients.ts';
import { DynamoObjectStore } from '../aws/dynamo-objects.ts';
import { DynamoDueStore } from '../aws/dynamo-schedule.ts';
import { changesOf, scheduleTargetsOf } from '../aws/dynamo-stream.ts';
import { DynamoVaultStore } from '../aws/dynamo-vaults.ts';
import { EventBridgePublisher } from '../aws/eventbridge-publisher.ts';
import { EventEmitter } from '../events/publish.ts';
import { ScheduleKeeper } from '../events/schedule.ts';
import { type Config, config } from './config.ts';

/**
 * The stream function's composition root: the objects table's stream in, Key Vault's events out to
 * the deployment's EventBridge bus (the vault records name the events' topics), and the scheduled
 * work kept in step with the committed state (lib/events/schedule.ts: due items in the objects
 * table). Nothing of the request pipeline. Built on the first invocation, and again after the
 * configuration was reset.
 */
interface EventServices {
  config: Config;
  emitter: EventEmitter;
  schedule: ScheduleKeeper;
  logger: Logger;
}

let current: EventServices | undefined;

function services(): EventServices {
  const cfg = config();
  if (current?.config !== cfg) {
    if (!cfg.eventBus) throw new Error('COFFER_EVENT_BUS is not set: the event function has no bus to publish to');
    const dynamo = dynamoDocumentClient(cfg.region);
    const vaults = new DynamoVaultStore(dynamo, cfg.objectsTable);
    current = {
      config: cfg,
      emitter: new EventEmitter(vaults, new EventBridgePublisher(new EventBridgeClient({ region: cfg.region }), cfg.eventBus)),
      schedule: new ScheduleKeeper(
        { objects: new DynamoObjectStore(dynamo, cfg.objectsTable), vaults },
        new DynamoDueStore(dynamo, cfg.objectsTable),
      ),
      logger: new Logger({ serviceName: 'coffer' }),
    };
  }
  return current;
}

/**
 * A batch of the objects table's stream: its changes' events published and its due items written,
 * and the records whose events were not all published or whose due items were not written answered
 * as batch item failures, from the first one on (the stream is ordered: Lambda hands that record and
 * every later one again, and after its retries sends the batch to the on-failure queue). An event
 * published twice carries the same id both times; due items written twice are the same items.
 */
export async function publishStreamEvents(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { emitter, schedule, logger } = services();
  const changes = changesOf(event.Records);
  const targets = scheduleTargetsOf(event.Records);
  const failedEvents = (await emitter.emit(changes.map((c) => c.change))).map((index) => changes[index]!.sequenceNumber);
  const failedSchedule = (
    await schedule.keepAll(
      targets.map((t) => t.target),
      (error) => logger.warn('due items were not written', { error: error instanceof Error ? error.name : 'unknown' }),
    )
  ).map((index) => targets[index]!.sequenceNumber);
  const first = firstInStreamOrder(event.Records, [...failedEvents, ...failedSchedule]);
  if (first === undefined) return { batchItemFailures: [] };
  logger.warn('some changes were not handled; the stream hands them again', {
    events: failedEvents.length,
    schedule: failedSchedule.length,
    from: first,
  });
  return { batchItemFailures: [{ itemIdentifier: first }] };
}

/** Of these sequence numbers, the one whose record comes first in the batch. */
function firstInStreamOrder(records: readonly DynamoDBRecord[], sequenceNumbers: string[]): string | undefined {
  if (sequenceNumbers.length === 0) return undefined;
  const failed = new Set(sequenceNumbers);
  return records.map((r) => r.dynamodb?.SequenceNumber).find((s): s is string => s !== undefined && failed.has(s));
}
