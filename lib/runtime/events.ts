import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgeClient } from '../aws/api/eventbridge.ts';
import { dynamoDocumentClient } from '../aws/clients.ts';
import { changesOf } from '../aws/dynamo-stream.ts';
import { DynamoVaultStore } from '../aws/dynamo-vaults.ts';
import { EventBridgePublisher } from '../aws/eventbridge-publisher.ts';
import { EventEmitter } from '../events/publish.ts';
import { type Config, config } from './config.ts';

/**
 * The event function's composition root: the objects table's stream in, Key Vault's events out to
 * the deployment's EventBridge bus; the vault records name the events' topics. Nothing of the request
 * pipeline. Built on the first invocation, and again after the configuration was reset.
 */
interface EventServices {
  config: Config;
  emitter: EventEmitter;
  logger: Logger;
}

let current: EventServices | undefined;

function services(): EventServices {
  const cfg = config();
  if (current?.config !== cfg) {
    if (!cfg.eventBus) throw new Error('COFFER_EVENT_BUS is not set: the event function has no bus to publish to');
    current = {
      config: cfg,
      emitter: new EventEmitter(
        new DynamoVaultStore(dynamoDocumentClient(cfg.region), cfg.objectsTable),
        new EventBridgePublisher(new EventBridgeClient({ region: cfg.region }), cfg.eventBus),
      ),
      logger: new Logger({ serviceName: 'coffer' }),
    };
  }
  return current;
}

/**
 * A batch of the objects table's stream: its changes' events published, and the records whose events
 * were not all published answered as batch item failures, from the first one on (the stream is
 * ordered: Lambda hands that record and every later one again, and after its retries sends the batch
 * to the on-failure queue). An event published twice carries the same id both times.
 */
export async function publishStreamEvents(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { emitter, logger } = services();
  const changes = changesOf(event.Records);
  const failed = await emitter.emit(changes.map((c) => c.change));
  if (failed.length === 0) return { batchItemFailures: [] };
  const first = changes[failed[0]!]!;
  logger.warn('some events were not published; the stream hands them again', { failed: failed.length, from: first.sequenceNumber });
  return { batchItemFailures: [{ itemIdentifier: first.sequenceNumber }] };
}
