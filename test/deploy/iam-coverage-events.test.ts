import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionEvent } from '../../dev/audit-delivery.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { handler as deliverAuditRecords } from '../../functions/audit/deliver-audit-records.ts';
import { handler as publishEvents } from '../../functions/events/publish-events.ts';
import { SecretClient } from '@azure/keyvault-secrets';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { handler as runScheduledWork } from '../../functions/events/run-scheduled-work.ts';
import { VAULT_RECORD_PARTITIONS } from '../../infra/event-functions.ts';
import { DynamoDBDocumentClient, PutCommand } from '../../lib/aws/api/dynamodb.ts';
import { DynamoDueStore } from '../../lib/aws/dynamo-schedule.ts';
import { dueIndex } from '../../lib/aws/tables.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { auditLine } from '../../lib/audit/log-stream.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { CONTROL_PLANE_PARTITIONS, DUE_ITEM_PARTITIONS, eventPermissions, grantsOfAll, SCHEDULE_SOURCE_PARTITIONS } from '../../infra/permissions.ts';
import { auditItems } from '../support/audit.ts';
import { adminSecretCredential, localStack } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * What iam-coverage.test.ts does for the operations, for the functions no route reaches
 * (infra/event-functions.ts): each runs in-process against the local stack, every AWS request it
 * makes is recorded, and each must be granted by `eventPermissions`, every grant used.
 */
const calls: string[] = [];
/** The partition key of every DynamoDB item request, `<table>:<action>:<pk>`: IAM conditions on `dynamodb:LeadingKeys` are on those. */
const itemKeys: string[] = [];
const restore: (() => void)[] = [];
const savedEnv = { ...process.env };

/**
 * Every AWS request, seen where it leaves the process (whichever client sends it): the action from
 * its X-Amz-Target header, the tables from its JSON body.
 */
function recordRequests(module: typeof http | typeof https): void {
  const original = module.request;
  module.request = function recordingRequest(this: unknown, ...args: unknown[]) {
    const options = (typeof args[1] === 'object' && args[1] ? args[1] : args[0]) as { headers?: Record<string, unknown> } | undefined;
    const headers = Object.fromEntries(Object.entries(options?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
    const request = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const target = headers['x-amz-target'];
    if (!target) return request;
    const [service, action] = target.split('.') as [string, string];
    const chunks: Buffer[] = [];
    const write = request.write.bind(request);
    const end = request.end.bind(request);
    request.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk) chunks.push(Buffer.from(chunk as string));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof request.write;
    request.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        TableName?: string;
        RequestItems?: Record<string, unknown>;
        Key?: { pk?: { S?: string } };
        Item?: { pk?: { S?: string } };
        ExpressionAttributeValues?: { ':pk'?: { S?: string } };
        IndexName?: string;
      };
      const info = localStack();
      const tables = [body.TableName, ...Object.keys(body.RequestItems ?? {})].filter((t): t is string => Boolean(t));
      const named = (table: string) => (table === info.tables.audit ? 'audit' : table === info.tables.objects ? 'objects' : table);
      if (service.startsWith('DynamoDB')) {
        // A Query of an index is granted on the index's ARN: `objects/index/<name>`.
        for (const table of tables) calls.push(`${named(table)}${body.IndexName ? `/index/${body.IndexName}` : ''}:${action}`);
        // The partition an item request or a table Query names: IAM conditions on `dynamodb:LeadingKeys` are on those.
        const pk = body.Key?.pk?.S ?? body.Item?.pk?.S ?? (body.IndexName ? undefined : body.ExpressionAttributeValues?.[':pk']?.S);
        if (body.TableName && pk) itemKeys.push(`${named(body.TableName)}:${action}:${pk}`);
      } else calls.push(`${service}:${action}`);
      return (end as (...a: unknown[]) => http.ClientRequest)(chunk, ...rest);
    }) as typeof request.end;
    return request;
  } as typeof module.request;
  restore.push(() => {
    module.request = original;
  });
}

beforeAll(() => {
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
  recordRequests(http);
  recordRequests(https);
});

afterAll(() => {
  for (const undo of restore) undo();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
});

describe('DeliverAuditRecords calls only what infra/permissions.ts grants it, and uses every grant', () => {
  it('writes a batch of records', async () => {
    const time = new Date().toISOString();
    const records = Array.from({ length: 30 }, () => ({
      time,
      vault: 'iam-coverage',
      requestId: randomUUID(),
      operationName: 'SecretGet',
      category: 'AuditEvent' as const,
      resultType: 'Success' as const,
      resultSignature: 'OK',
      httpStatusCode: 200,
      durationMs: 1,
      requestUri: 'https://iam-coverage.vault.localhost/secrets/x',
    }));
    const event = subscriptionEvent(records.map((record, i) => ({ id: String(i), timestamp: Date.now(), message: auditLine(record).trimEnd() })));
    const outcome = await deliverAuditRecords(event);
    const made = calls.splice(0);
    expect(outcome.delivered).toBe(records.length);
    expect(await auditItems(records[0]!.requestId)).toHaveLength(1);

    const granted = eventPermissions.DeliverAuditRecords.audit.map((action) => `audit:${action}`);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((call) => !granted.includes(call as never))).toEqual([]);
    expect(granted.filter((grant) => !made.includes(grant))).toEqual([]);
  });
});

/**
 * A stand-in for EventBridge on loopback: answers PutEvents as EventBridge does when every entry was
 * put (an EventId per entry, in order), and keeps the entries it was sent.
 */
async function fakeEventBridge(): Promise<{
  url: string;
  entries: { EventBusName?: string; DetailType?: string; Detail?: string }[];
  close: () => Promise<void>;
}> {
  const entries: { EventBusName?: string; DetailType?: string; Detail?: string }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'UnknownOperationException' }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: typeof entries };
      entries.push(...body.Entries);
      response
        .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map(() => ({ EventId: randomUUID() })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    entries,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

describe('PublishEvents calls only what infra/permissions.ts grants it, and uses every grant', () => {
  const BUS = 'coffer-iam-coverage';
  let eventBridge: Awaited<ReturnType<typeof fakeEventBridge>>;
  let vault: string;

  beforeAll(async () => {
    vault = (await createLocalVault('iamevents')).name;
    eventBridge = await fakeEventBridge();
    Object.assign(process.env, { COFFER_EVENT_BUS: BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url });
    resetConfig();
  }, 60_000);

  afterAll(async () => {
    await eventBridge?.close();
  });

  it("publishes a new version's event from a stream record, reading only its vault's record", async () => {
    const version = randomBytes(16).toString('hex');
    const created = Math.floor(Date.now() / 1000);
    const sequenceNumber = '100000000000000000001';
    // As Lambda hands a batch of the objects table's stream (NEW_AND_OLD_IMAGES): a version item inserted.
    const event: DynamoDBStreamEvent = {
      Records: [
        {
          eventID: randomUUID(),
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'us-east-1',
          eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${localStack().tables.objects}/stream/2020-01-01T00:00:00.000`,
          dynamodb: {
            ApproximateCreationDateTime: created,
            Keys: { pk: { S: `${vault}#secrets#db-password` }, sk: { S: version } },
            NewImage: {
              pk: { S: `${vault}#secrets#db-password` },
              sk: { S: version },
              name: { S: 'db-password' },
              attributes: { M: { created: { N: String(created) }, enabled: { BOOL: true } } },
              // Sealed content arrives as binary, which no event carries.
              value: { B: 'AQID' },
            },
            SequenceNumber: sequenceNumber,
            SizeBytes: 200,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        },
      ],
    };
    calls.splice(0);
    itemKeys.splice(0);
    const answer = await publishEvents(event);
    const made = calls.splice(0);
    const keys = itemKeys.splice(0);

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(eventBridge.entries).toHaveLength(1);
    expect(eventBridge.entries[0]).toMatchObject({ EventBusName: BUS, DetailType: 'Microsoft.KeyVault.SecretNewVersionCreated' });
    expect(JSON.parse(eventBridge.entries[0]!.Detail!)).toMatchObject({ subject: 'db-password', data: { VaultName: vault, Version: version } });

    const granted = [
      ...eventPermissions.PublishEvents.vaultRecords.map((action) => `objects:${action}`),
      ...eventPermissions.PublishEvents.eventBus.map((action) => `AWSEvents:${action}`),
    ];
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((call) => !granted.includes(call))).toEqual([]);
    expect(granted.filter((grant) => !made.includes(grant))).toEqual([]);
    // The IAM condition: of the objects table, vault records only.
    const prefixes = VAULT_RECORD_PARTITIONS.map((pattern) => pattern.slice(0, -1));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !prefixes.some((prefix) => key.startsWith(`objects:GetItem:${prefix}`)))).toEqual([]);
    // The stream itself is read by Lambda's poller, never by the handler: those grants are for it.
    expect(made.filter((call) => /GetRecords|GetShardIterator|DescribeStream|ListStreams/.test(call))).toEqual([]);
  });
});

/** An IAM `StringLike` pattern (`*` any run of characters) as a test of a value. */
function likePattern(pattern: string): (value: string) => boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return (value) => regex.test(value);
}

describe('PublishEvents keeps the due items with what infra/permissions.ts grants it, and uses those grants', () => {
  let vault: string;

  beforeAll(async () => {
    const created = await createLocalVault('iamsched');
    vault = created.name;
    const secrets = new SecretClient(created.vaultUri, adminSecretCredential(localStack()), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    await secrets.setSecret('db', 'value', { expiresOn: new Date(Date.now() + 400 * 86_400_000) });
    // The stack's own stream reader schedules this change too. Wait until it has, so that it cannot
    // remove the stale due items the test plants before the handler under test gets to them.
    const info = localStack();
    const due = new DynamoDueStore(
      new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS }),
      info.tables.objects,
    );
    const deadline = Date.now() + 30_000;
    while (!(await due.get(vault, 'secrets#db#expired'))) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the stack's stream reader to schedule the secret");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  it("schedules a head's change: reads the object and its vault, replaces its due items, nothing else", async () => {
    const info = localStack();
    const db = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
    // Due items the object's state no longer asks for (another slot, other work in a slot): replaced and removed.
    // Due far ahead, so that the stack's scheduler timer never takes them up meanwhile.
    const stale = {
      vault,
      dueBucket: 'due#0',
      dueAt: 4_102_444_800,
      work: { kind: 'rotate', name: 'db', version: 'x' },
      fingerprint: 'stale',
      done: false,
    };
    await db.send(new PutCommand({ TableName: info.tables.objects, Item: { pk: `${vault}#schedule`, sk: 'secrets#db#rotate', ...stale } }));
    await db.send(new PutCommand({ TableName: info.tables.objects, Item: { pk: `${vault}#schedule`, sk: 'secrets#db#expired', ...stale } }));
    const event: DynamoDBStreamEvent = {
      Records: [
        {
          eventID: randomUUID(),
          eventName: 'MODIFY',
          eventSource: 'aws:dynamodb',
          dynamodb: {
            Keys: { pk: { S: `${vault}#secrets` }, sk: { S: 'db' } },
            NewImage: { pk: { S: `${vault}#secrets` }, sk: { S: 'db' }, name: { S: 'db' } },
            SequenceNumber: '200000000000000000001',
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        },
      ],
    };
    calls.splice(0);
    itemKeys.splice(0);
    expect(await publishEvents(event)).toEqual({ batchItemFailures: [] });
    const made = calls.splice(0);
    const keys = itemKeys.splice(0);
    expect(await new DynamoDueStore(db, info.tables.objects).get(vault, 'secrets#db#rotate')).toBeUndefined();
    expect(await new DynamoDueStore(db, info.tables.objects).get(vault, 'secrets#db#expired')).toMatchObject({
      done: false,
      dueAt: expect.any(Number),
      fingerprint: expect.not.stringMatching(/^stale$/),
    });

    const permitted = eventPermissions.PublishEvents;
    const granted = [
      ...permitted.vaultRecords.map((a) => `objects:${a}`),
      ...permitted.scheduleSources.map((a) => `objects:${a}`),
      ...permitted.dueItems.map((a) => `objects:${a}`),
      ...permitted.eventBus.map((a) => `AWSEvents:${a}`),
    ];
    expect(made.filter((call) => !granted.includes(call))).toEqual([]);
    const scheduleGrants = [...permitted.scheduleSources, ...permitted.dueItems].map((a) => `objects:${a}`);
    expect(scheduleGrants.filter((grant) => !made.includes(grant))).toEqual([]);
    // The IAM conditions: reads of vault records and of the schedule's sources, writes of due items only.
    const readable = [...VAULT_RECORD_PARTITIONS, ...SCHEDULE_SOURCE_PARTITIONS].map(likePattern);
    const dueItems = DUE_ITEM_PARTITIONS.map(likePattern);
    expect(keys.filter((key) => key.startsWith('objects:PutItem:') || key.startsWith('objects:DeleteItem:')).length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      const [, action, pk] = key.split(':') as [string, string, string];
      const allowed = action === 'GetItem' ? readable : dueItems;
      expect(
        allowed.some((matches) => matches(pk)),
        key,
      ).toBe(true);
      if (action !== 'GetItem' && action !== 'Query')
        expect(
          CONTROL_PLANE_PARTITIONS.map(likePattern).some((m) => m(pk)),
          key,
        ).toBe(false);
    }
  });
});

describe('RunScheduledWork calls only what infra/permissions.ts grants it', () => {
  let eventBridge: Awaited<ReturnType<typeof fakeEventBridge>>;

  beforeAll(async () => {
    const created = await createLocalVault('iamrun');
    const secrets = new SecretClient(created.vaultUri, adminSecretCredential(localStack()), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    // Expired already: its NearExpiry and Expired are due now.
    await secrets.setSecret('gone', 'value', { expiresOn: new Date(Date.now() - 60_000) });
    eventBridge = await fakeEventBridge();
    Object.assign(process.env, { COFFER_EVENT_BUS: 'coffer-iam-coverage', AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url });
    resetConfig();
    resetServices();
  }, 60_000);

  afterAll(async () => {
    await eventBridge?.close();
    resetServices();
  });

  it('queries the due index by its name, and makes no call outside the grants of the operations whose work it does', async () => {
    calls.splice(0);
    await runScheduledWork();
    const made = calls.splice(0);
    const grants = grantsOfAll(eventPermissions.RunScheduledWork.operations);
    const granted = new Set([
      ...grants.objects.map((a) => `objects:${a}`),
      ...grants.audit.map((a) => `audit:${a}`),
      ...eventPermissions.RunScheduledWork.dueIndex.map((a) => `objects/index/${dueIndex.name}:${a}`),
      ...eventPermissions.RunScheduledWork.eventBus.map((a) => `AWSEvents:${a}`),
      // KMS (TrentService): the vault's data keys, and the KMS keys behind HSM keys and vaults.
      ...[...grants.vaultKey, ...grants.hsmKeys, ...grants.vaultKeyLifecycle].map((a) => `TrentService:${a}`),
      ...(grants.createsHsmKeys.length > 0 ? ['TrentService:CreateKey', 'TrentService:TagResource'] : []),
    ]);
    expect(made).toContain(`objects/index/${dueIndex.name}:Query`);
    expect(made.filter((call) => !granted.has(call))).toEqual([]);
  });
});
