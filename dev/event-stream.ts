import { randomUUID } from 'node:crypto';
import type { AttributeValue, Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { AwsJsonClient } from '#lib/aws/api/aws-json';
import { appendPrivateLine, readFileIfExists, writePrivateFile } from './files.ts';
import { lambdaContext } from './lambda-event.ts';
import { LOCAL_CREDENTIALS, REGION } from './local-environment.ts';

/**
 * The local stack's event source mapping: it reads DynamoDB Local's stream of the objects table and
 * invokes the stream function (functions/events/publish-events.ts) with the DynamoDBStreamEvent
 * Lambda builds, with the settings infra/event-functions.ts gives the mapping in AWS: batches of up
 * to 100 records from TRIM_HORIZON, per shard in order, a shard's children only after it is done.
 *
 * Failures are handled as Lambda handles a function that reports batch item failures: the failed
 * record and every later one of the batch are handed again, after a growing pause; after
 * `maxRetries` retries, or once older than `maxRecordAgeSeconds`, the records are described in a
 * dead-letter file, as the on-failure destination
 * receives it (the records themselves stay in the stream for 24 hours), and the shard moves on.
 * A function that throws failed its whole batch. How far each shard got is kept in a state file
 * (owner-only), so a restart hands nothing twice that the last run finished and nothing is skipped
 * that it did not: at least once, as in AWS.
 */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | undefined>;

export interface EventStreamOptions {
  /** DynamoDB Local's endpoint, which serves the streams API too. */
  endpoint: string;
  tableName: string;
  /** Where each shard's last finished sequence number is kept (owner-only). */
  stateFile: string;
  /** Where batches whose retries ran out are described, one JSON line each (owner-only). */
  deadLetterFile: string;
  handler: StreamHandler;
  /** Records per invocation at most (the mapping's BatchSize). */
  batchSize?: number;
  /** Retries of a failed batch before it is dead-lettered (the mapping's MaximumRetryAttempts). */
  maxRetries?: number;
  /** Records older than this are dead-lettered instead of retried (the mapping's MaximumRecordAgeInSeconds). */
  maxRecordAgeSeconds?: number;
  /** Pause between looks at the stream when it had nothing new. */
  pollMs?: number;
  /** Pause before the n-th retry of a failed batch (n >= 1). */
  retryDelayMs?: (retry: number) => number;
  /** Where failures are reported, as the function's errors are in its log group in AWS. */
  warn?: (message: string) => void;
}

export interface EventStream {
  /** Resolves once everything the stream holds now was handed to the function (or dead-lettered). */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

interface ShardState {
  /** The last sequence number whose record is done with. */
  sequenceNumber?: string;
  /** The shard is closed and was read to its end. */
  done?: boolean;
}

interface StreamState {
  streamArn?: string;
  shards: Record<string, ShardState>;
}

const FUNCTION_NAME = 'PublishEvents';
const SHARD_REFRESH_MS = 5_000;

/** A stream record as the streams API answers it: the same JSON Lambda's event carries (attribute values, binary in base64). */
type StreamRecord = Omit<DynamoDBRecord, 'eventSourceARN'>;
interface Shard {
  ShardId: string;
  ParentShardId?: string;
}

/**
 * The DynamoDB Streams API (JSON 1.0) on Coffer's own transport, whose answers are the wire's JSON:
 * the records go into the Lambda event exactly as read, as Lambda passes them.
 */
function streamsClient(endpoint: string): AwsJsonClient {
  return new AwsJsonClient(
    { signingName: 'dynamodb', endpointId: 'DYNAMODB', targetPrefix: 'DynamoDBStreams_20120810', jsonVersion: '1.0', dependency: 'stream' },
    { region: REGION, endpoint, credentials: () => LOCAL_CREDENTIALS },
  );
}

export async function startEventStream(options: EventStreamOptions): Promise<EventStream> {
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 10;
  // infra/event-functions.ts: 6 hours.
  const maxRecordAgeSeconds = options.maxRecordAgeSeconds ?? 21_600;
  const pollMs = options.pollMs ?? 200;
  const retryDelayMs = options.retryDelayMs ?? ((retry: number) => Math.min(10_000, 200 * 2 ** (retry - 1)));
  const warn = options.warn ?? ((message: string) => console.error(message));
  const client = streamsClient(options.endpoint);
  const state = await savedState(options.stateFile);
  const iterators = new Map<string, string>();
  let stopping = false;
  let wake: (() => void) | undefined;
  /** Cycles started so far; a drain waits for an idle cycle that started after it was asked for. */
  let cycles = 0;
  let idleWaiters: { after: number; resolve: () => void }[] = [];
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const save = () => writePrivateFile(options.stateFile, JSON.stringify(state));

  const streamArn = async (): Promise<string | undefined> => {
    const { Streams = [] } = (await client.call('ListStreams', { TableName: options.tableName })) as { Streams?: { StreamArn: string }[] };
    const arn = Streams.at(-1)?.StreamArn;
    if (arn && arn !== state.streamArn) {
      // A new stream (the table was made again): its shards start from nothing.
      state.streamArn = arn;
      state.shards = {};
      iterators.clear();
      await save();
    }
    return arn;
  };

  const shardsOf = async (arn: string): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = (await client.call('DescribeStream', { StreamArn: arn, ...(start ? { ExclusiveStartShardId: start } : {}) })) as {
        StreamDescription?: { Shards?: Shard[]; LastEvaluatedShardId?: string };
      };
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  };

  const iteratorOf = async (arn: string, shardId: string): Promise<string | undefined> => {
    const cached = iterators.get(shardId);
    if (cached) return cached;
    const sequenceNumber = state.shards[shardId]?.sequenceNumber;
    const { ShardIterator } = (await client.call('GetShardIterator', {
      StreamArn: arn,
      ShardId: shardId,
      ...(sequenceNumber ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequenceNumber } : { ShardIteratorType: 'TRIM_HORIZON' }),
    })) as { ShardIterator?: string };
    return ShardIterator;
  };

  const checkpoint = async (shardId: string, sequenceNumber: string | undefined, done = false) => {
    const shard = state.shards[shardId] ?? {};
    state.shards[shardId] = shard;
    if (sequenceNumber) shard.sequenceNumber = sequenceNumber;
    if (done) shard.done = true;
    await save();
  };

  const deadLetter = (
    arn: string,
    shardId: string,
    records: StreamRecord[],
    attempts: number,
    failure: string,
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
  ) => {
    const first = records[0]!;
    const last = records.at(-1)!;
    // The shape of the record Lambda sends a stream mapping's on-failure destination.
    const description = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${REGION}:000000000000:function:coffer-local-${FUNCTION_NAME}`,
        condition,
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: failure },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.dynamodb?.SequenceNumber,
        endSequenceNumber: last.dynamodb?.SequenceNumber,
        approximateArrivalOfFirstRecord: isoTime(first.dynamodb?.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: isoTime(last.dynamodb?.ApproximateCreationDateTime),
        batchSize: records.length,
        streamArn: arn,
      },
    };
    appendPrivateLine(options.deadLetterFile, `${JSON.stringify(description)}\n`);
  };

  /** Hands `records` to the function until all are done or dead-lettered; false if stopping interrupted it. */
  const handBatch = async (arn: string, shardId: string, records: StreamRecord[]): Promise<boolean> => {
    let pending = records;
    let failure = '';
    for (let attempt = 1; ; attempt++) {
      // Lambda retries no record past the maximum age: those at the front go to the on-failure destination.
      const oldest = Date.now() / 1000 - maxRecordAgeSeconds;
      const firstFresh = pending.findIndex((r) => (r.dynamodb?.ApproximateCreationDateTime ?? Number.POSITIVE_INFINITY) >= oldest);
      const tooOld = firstFresh === -1 ? pending.length : firstFresh;
      if (attempt > 1 && tooOld > 0) {
        warn(`${tooOld} stream records were older than ${maxRecordAgeSeconds} s; described in ${options.deadLetterFile}`);
        deadLetter(arn, shardId, pending.slice(0, tooOld), attempt - 1, failure, 'RecordAgeExceeded');
        await checkpoint(shardId, pending[tooOld - 1]!.dynamodb?.SequenceNumber);
        pending = pending.slice(tooOld);
        if (pending.length === 0) return true;
      }
      let failedFrom: number;
      try {
        const answer = await options.handler(lambdaStreamEvent(arn, pending), lambdaContext(FUNCTION_NAME));
        const failures = answer?.batchItemFailures ?? [];
        if (failures.length === 0) {
          await checkpoint(shardId, pending.at(-1)!.dynamodb?.SequenceNumber);
          return true;
        }
        // Lambda goes on from the lowest sequence number reported; one it cannot find fails the batch.
        const indexes = failures.map((f) => pending.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier));
        failedFrom = indexes.includes(-1) ? 0 : Math.min(...indexes);
        failure = 'PartialBatchFailure';
      } catch (error) {
        failedFrom = 0;
        failure = 'Unhandled';
        warn(`the event function failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (failedFrom > 0) {
        await checkpoint(shardId, pending[failedFrom - 1]!.dynamodb?.SequenceNumber);
        pending = pending.slice(failedFrom);
      }
      if (attempt > maxRetries) {
        warn(`${pending.length} stream records were not handled after ${attempt} attempts; described in ${options.deadLetterFile}`);
        deadLetter(arn, shardId, pending, attempt, failure, 'RetryAttemptsExhausted');
        await checkpoint(shardId, pending.at(-1)!.dynamodb?.SequenceNumber);
        return true;
      }
      if (stopping) return false;
      await pause(retryDelayMs(attempt));
    }
  };

  // The stream and its shards change rarely (a new shard every few hours, or after a shard ends):
  // they are looked up again only that often, so an idle stack polls with one GetRecords per shard.
  let layout: { arn: string; shards: Shard[]; at: number } | undefined;
  const currentLayout = async () => {
    if (!layout || Date.now() - layout.at > SHARD_REFRESH_MS) {
      const arn = await streamArn();
      layout = arn ? { arn, shards: await shardsOf(arn), at: Date.now() } : undefined;
    }
    return layout;
  };

  /** One pass over the stream; true if it handed any records (so another pass follows at once). */
  const cycle = async (): Promise<boolean> => {
    const current = await currentLayout();
    if (!current) return false;
    const { arn, shards } = current;
    const known = new Set(shards.map((s) => s.ShardId));
    let handed = false;
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (state.shards[shardId]?.done) continue;
      // A child shard's records follow its parent's: it waits until the parent is read to its end.
      if (shard.ParentShardId && known.has(shard.ParentShardId) && !state.shards[shard.ParentShardId]?.done) continue;
      let iterator: string | undefined;
      try {
        iterator = await iteratorOf(arn, shardId);
      } catch (error) {
        if ((error as Error).name !== 'TrimmedDataAccessException') throw error;
        // What the checkpoint names was trimmed (24 hours): go on from the oldest record left.
        warn(`stream records past ${state.shards[shardId]?.sequenceNumber} were trimmed before they were handled`);
        delete state.shards[shardId]?.sequenceNumber;
        continue;
      }
      if (!iterator) continue;
      let answer: { Records?: StreamRecord[]; NextShardIterator?: string };
      try {
        answer = (await client.call('GetRecords', { ShardIterator: iterator, Limit: batchSize })) as typeof answer;
      } catch (error) {
        // Iterators last 15 minutes: a new one from the checkpoint.
        if ((error as Error).name === 'ExpiredIteratorException') {
          iterators.delete(shardId);
          continue;
        }
        throw error;
      }
      const records = answer.Records ?? [];
      if (records.length > 0) {
        handed = true;
        if (!(await handBatch(arn, shardId, records))) {
          iterators.delete(shardId);
          return false;
        }
      }
      if (answer.NextShardIterator) iterators.set(shardId, answer.NextShardIterator);
      else {
        // The shard ended: its children (if any) are in the next look at the shards.
        iterators.delete(shardId);
        await checkpoint(shardId, undefined, true);
        layout = undefined;
      }
    }
    return handed;
  };

  const loop = (async () => {
    while (!stopping) {
      let handed = false;
      const started = ++cycles;
      try {
        handed = await cycle();
      } catch (error) {
        // The stream may have changed under us (the table made again): look it up afresh.
        layout = undefined;
        warn(`the event stream could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!handed) {
        for (const waiter of idleWaiters.filter((w) => w.after < started)) waiter.resolve();
        idleWaiters = idleWaiters.filter((w) => w.after >= started);
        if (!stopping) await pause(pollMs);
      }
    }
  })();

  return {
    drained: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push({ after: cycles, resolve });
      }),
    stop: async () => {
      stopping = true;
      wake?.();
      await loop;
      for (const waiter of idleWaiters) waiter.resolve();
      client.destroy();
    },
  };
}

/** The event Lambda invokes a DynamoDB stream function with. */
function lambdaStreamEvent(streamArn: string, records: readonly StreamRecord[]): DynamoDBStreamEvent {
  return {
    Records: records.map((record) => {
      const data = record.dynamodb ?? {};
      return {
        ...record,
        eventSourceARN: streamArn,
        dynamodb: {
          ...data,
          ...(data.Keys ? { Keys: repairedImage(data.Keys) } : {}),
          ...(data.NewImage ? { NewImage: repairedImage(data.NewImage) } : {}),
          ...(data.OldImage ? { OldImage: repairedImage(data.OldImage) } : {}),
        },
      };
    }),
  };
}

/**
 * DynamoDB Local writes an empty map into its stream records as `{}` where DynamoDB writes
 * `{"M": {}}` (a vault's empty `tags`), which no reader of attribute values accepts; the record is
 * repaired to what DynamoDB sends before the function sees it.
 */
function repairedImage(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, repairedValue(value)]));
}

function repairedValue(value: AttributeValue): AttributeValue {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M) return { M: repairedImage(value.M) };
  if (value.L) return { L: value.L.map(repairedValue) };
  return value;
}

function isoTime(epochSeconds: number | undefined): string | undefined {
  return epochSeconds === undefined ? undefined : new Date(epochSeconds * 1000).toISOString();
}

async function savedState(stateFile: string): Promise<StreamState> {
  const saved = await readFileIfExists(stateFile);
  if (!saved) return { shards: {} };
  try {
    const parsed = JSON.parse(saved) as Partial<StreamState>;
    return { ...(typeof parsed.streamArn === 'string' ? { streamArn: parsed.streamArn } : {}), shards: parsed.shards ?? {} };
  } catch {
    return { shards: {} };
  }
}
