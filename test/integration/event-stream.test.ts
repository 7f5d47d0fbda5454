import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventStream, startEventStream } from '../../dev/event-stream.ts';
import { type LocalEventBridge, startLocalEventBridge } from '../../dev/eventbridge/server.ts';
import { freePort, functionEnvironment } from '../../dev/stack.ts';
import { handler as publishEvents } from '../../functions/events/publish-events.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { eventsLogLines, jsonLines, waitFor } from '../support/events.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { adminSecretCredential, localStack, secretClient, uniqueName } from '../support/local.ts';

/**
 * The local stack's stream reader (dev/event-stream.ts) against DynamoDB Local's stream of the
 * objects table, run here in the test's own process beside the gateway's: with the production event
 * function and a local EventBridge that goes away and comes back, and with a function that fails on
 * purpose, to see Lambda's handling of batch item failures, the dead-letter description and the
 * checkpoint.
 */
const info = localStack();
const credential = adminSecretCredential(info);
const savedEnv = { ...process.env };
let dir: string;
let reader: EventStream | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-event-stream-'));
});

afterEach(async () => {
  await reader?.stop();
  reader = undefined;
});

afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
  await rm(dir, { recursive: true, force: true });
});

/** Whether a stream record is about a version of the secret `name`. */
const isVersionOf = (record: DynamoDBRecord, name: string) => record.dynamodb?.Keys?.pk?.S === `${info.vaultName}#secrets#${name.toLowerCase()}`;

describe('the stream reader', () => {
  it('loses no event while the event bus is down: the same event arrives once it is back', async () => {
    const port = await freePort();
    const busDir = join(dir, 'eventbridge');
    const eventsLog = join(dir, 'outage-events.log');
    const startBus = () =>
      startLocalEventBridge({
        dataDir: busDir,
        credentials: info.awsCredentials,
        buses: [info.eventBus],
        eventsLog,
        deadLetterLog: join(dir, 'outage-dead-letters.log'),
        port,
      });
    let bus: LocalEventBridge = await startBus();
    Object.assign(process.env, functionEnvironment(info), { AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
    resetConfig();
    const invocations: DynamoDBStreamEvent[] = [];
    reader = await startEventStream({
      endpoint: info.endpoints.dynamodb,
      tableName: info.tables.objects,
      stateFile: join(dir, 'outage-state.json'),
      deadLetterFile: join(dir, 'outage-stream-dead-letters.log'),
      handler: async (event) => {
        invocations.push(event);
        return publishEvents(event);
      },
      retryDelayMs: () => 200,
      maxRetries: 1_000,
      warn: () => undefined,
    });
    await reader.drained();

    await bus.close();
    const name = uniqueName('outage');
    await secretClient(credential, info).setSecret(name, 'v');
    // The gateway's own reader publishes it to the stack's bus: its id is the one to arrive here too.
    const published = await waitFor('the stack bus event', () => eventsLogLines().find((line) => line.kind === 'put' && line.subject === name));
    const handedWhileDown = () => invocations.filter((event) => event.Records.some((record) => isVersionOf(record, name))).length;
    await waitFor('two tries while the bus is down', () => handedWhileDown() >= 2, 30_000);
    expect(eventsLogLines(eventsLog).filter((line) => line.subject === name)).toEqual([]);

    bus = await startBus();
    try {
      const arrived = await waitFor(
        'the event after the outage',
        () => eventsLogLines(eventsLog).find((line) => line.kind === 'put' && line.subject === name),
        30_000,
      );
      expect(arrived.detailId).toBe(published.detailId);
      expect(arrived['detail-type']).toBe('Microsoft.KeyVault.SecretNewVersionCreated');
      await reader.drained();
      expect(eventsLogLines(eventsLog).filter((line) => line.kind === 'put' && line.subject === name)).toHaveLength(1);
      expect(jsonLines(join(dir, 'outage-stream-dead-letters.log'))).toEqual([]);
    } finally {
      await reader.stop();
      reader = undefined;
      await bus.close();
    }
  });

  it('loses no event while the event bus answers errors: the same event arrives once it answers again', async () => {
    const eventsLog = join(dir, 'errors-events.log');
    const bus = await startLocalEventBridge({
      dataDir: join(dir, 'errors-eventbridge'),
      credentials: info.awsCredentials,
      buses: [info.eventBus],
      eventsLog,
      deadLetterLog: join(dir, 'errors-dead-letters.log'),
    });
    const proxy = await FaultProxy.start(bus.endpoint);
    try {
      Object.assign(process.env, functionEnvironment(info), { AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.url });
      resetConfig();
      let handed = 0;
      const name = uniqueName('buserrors');
      reader = await startEventStream({
        endpoint: info.endpoints.dynamodb,
        tableName: info.tables.objects,
        stateFile: join(dir, 'errors-state.json'),
        deadLetterFile: join(dir, 'errors-stream-dead-letters.log'),
        handler: async (event) => {
          if (event.Records.some((record) => isVersionOf(record, name))) handed++;
          return publishEvents(event);
        },
        retryDelayMs: () => 200,
        maxRetries: 1_000,
        warn: () => undefined,
      });
      await reader.drained();
      await proxy.set({ kind: 'error', status: 500, code: 'InternalException' });
      await secretClient(credential, info).setSecret(name, 'v');
      const published = await waitFor('the stack bus event', () => eventsLogLines().find((line) => line.kind === 'put' && line.subject === name));
      await waitFor('two tries while the bus fails', () => handed >= 2, 30_000);
      expect(eventsLogLines(eventsLog).filter((line) => line.subject === name)).toEqual([]);

      await proxy.set({ kind: 'healthy' });
      const arrived = await waitFor(
        'the event once the bus answers',
        () => eventsLogLines(eventsLog).find((line) => line.kind === 'put' && line.subject === name),
        30_000,
      );
      expect(arrived.detailId).toBe(published.detailId);
      await reader.drained();
      expect(eventsLogLines(eventsLog).filter((line) => line.kind === 'put' && line.subject === name)).toHaveLength(1);
    } finally {
      await reader?.stop();
      reader = undefined;
      await proxy.close();
      await bus.close();
    }
  });

  it('hands the failed record and the later ones again, dead-letters them after the retries, and resumes from its checkpoint', async () => {
    const stateFile = join(dir, 'failing-state.json');
    const deadLetterFile = join(dir, 'failing-dead-letters.log');
    const poison = uniqueName('poison');
    const later = uniqueName('later');
    const handed: DynamoDBRecord[][] = [];
    const failing = async (event: DynamoDBStreamEvent) => {
      handed.push(event.Records);
      const bad = event.Records.find((record) => isVersionOf(record, poison));
      return { batchItemFailures: bad ? [{ itemIdentifier: bad.dynamodb!.SequenceNumber! }] : [] };
    };
    reader = await startEventStream({
      endpoint: info.endpoints.dynamodb,
      tableName: info.tables.objects,
      stateFile,
      deadLetterFile,
      handler: failing,
      maxRetries: 2,
      retryDelayMs: (retry) => 50 * retry,
      warn: () => undefined,
    });
    await reader.drained();
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);

    await secretClient(credential, info).setSecret(poison, 'v');
    const dead = await waitFor('the dead-letter description', () => jsonLines(deadLetterFile)[0], 30_000);
    const withPoison = handed.filter((records) => records.some((record) => isVersionOf(record, poison)));
    // The first hand-over and two retries, each retry starting at the failed record.
    expect(withPoison).toHaveLength(3);
    const poisonSequence = withPoison[0]!.find((record) => isVersionOf(record, poison))!.dynamodb!.SequenceNumber;
    expect(withPoison.slice(1).map((records) => records[0]!.dynamodb!.SequenceNumber)).toEqual([poisonSequence, poisonSequence]);
    expect(dead).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      version: '1.0',
      DDBStreamBatchInfo: { startSequenceNumber: poisonSequence, streamArn: expect.stringContaining('/stream/') },
    });
    expect((await stat(deadLetterFile)).mode & 0o777).toBe(0o600);

    // Past the dead-lettered records, the shard goes on.
    await secretClient(credential, info).setSecret(later, 'v');
    await waitFor('the later write', () => handed.some((records) => records.some((record) => isVersionOf(record, later))), 30_000);
    await reader.stop();

    // A new reader on the same checkpoint hands nothing the last one finished.
    const resumed: DynamoDBRecord[][] = [];
    reader = await startEventStream({
      endpoint: info.endpoints.dynamodb,
      tableName: info.tables.objects,
      stateFile,
      deadLetterFile,
      handler: async (event) => {
        resumed.push(event.Records);
        return { batchItemFailures: [] };
      },
    });
    const next = uniqueName('resumed');
    await secretClient(credential, info).setSecret(next, 'v');
    await waitFor('the write after the restart', () => resumed.some((records) => records.some((record) => isVersionOf(record, next))), 30_000);
    expect(resumed.flat().some((record) => isVersionOf(record, poison) || isVersionOf(record, later))).toBe(false);
    expect(jsonLines(deadLetterFile)).toHaveLength(1);
  });

  it('does not retry records past the maximum record age: they are described in the dead-letter file', async () => {
    const name = uniqueName('aged');
    const deadLetterFile = join(dir, 'aged-dead-letters.log');
    let tries = 0;
    reader = await startEventStream({
      endpoint: info.endpoints.dynamodb,
      tableName: info.tables.objects,
      stateFile: join(dir, 'aged-state.json'),
      deadLetterFile,
      handler: async (event) => {
        const mine = event.Records.find((record) => isVersionOf(record, name));
        if (!mine) return { batchItemFailures: [] };
        tries++;
        return { batchItemFailures: [{ itemIdentifier: mine.dynamodb!.SequenceNumber! }] };
      },
      // DynamoDB Local rounds creation times down to the minute: any record is older than 0 s.
      maxRecordAgeSeconds: 0,
      maxRetries: 1_000,
      retryDelayMs: () => 300,
      warn: () => undefined,
    });
    await reader.drained();
    await secretClient(credential, info).setSecret(name, 'v');
    const dead = await waitFor('the aged record', () => jsonLines(deadLetterFile)[0], 30_000);
    expect(dead).toMatchObject({ requestContext: { condition: 'RecordAgeExceeded' }, DDBStreamBatchInfo: { batchSize: expect.any(Number) } });
    // Handed once (Lambda invokes before it knows of the failure), never retried.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(tries).toBe(1);
    expect(dead.requestContext.approximateInvokeCount).toBe(1);
  });

  it('retries a batch whose function throws, from its first record', async () => {
    const name = uniqueName('throws');
    let calls = 0;
    const seen: DynamoDBRecord[][] = [];
    reader = await startEventStream({
      endpoint: info.endpoints.dynamodb,
      tableName: info.tables.objects,
      stateFile: join(dir, 'throwing-state.json'),
      deadLetterFile: join(dir, 'throwing-dead-letters.log'),
      handler: async (event) => {
        if (!event.Records.some((record) => isVersionOf(record, name))) return { batchItemFailures: [] };
        seen.push(event.Records);
        calls++;
        if (calls < 3) throw new Error('the function failed');
        return { batchItemFailures: [] };
      },
      retryDelayMs: () => 50,
      warn: () => undefined,
    });
    await reader.drained();
    await secretClient(credential, info).setSecret(name, 'v');
    await waitFor('three tries', () => calls >= 3, 30_000);
    expect(seen.map((records) => records[0]!.dynamodb!.SequenceNumber)).toEqual(Array(3).fill(seen[0]![0]!.dynamodb!.SequenceNumber));
    expect(jsonLines(join(dir, 'throwing-dead-letters.log'))).toEqual([]);
  });
});
