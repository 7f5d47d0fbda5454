import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import type { AuditRecord } from '../../lib/audit/audit.ts';
import { packAuditRecords } from '../../lib/audit/packs.ts';
import { DynamoDBDocumentClient, PutCommand } from '../../lib/aws/api/dynamodb.ts';
import { DynamoAuditStore } from '../../lib/aws/dynamo-audit.ts';
import { allPages, auditRecordAt, auditStoreContract } from '../support/audit-store-contract.ts';
import { localStack, uniqueName } from '../support/local.ts';

/**
 * DynamoAuditStore.query against DynamoDB Local: the day partitions walked newest first, the window's
 * bounds, the filters, pages of `top` with continuations, and a bounded number of requests per call;
 * the records in packs, merged across overlapping packs (test/support/audit-store-contract.ts, which
 * the in-memory store of the unit tests is held to as well), and the items written before packs.
 */
const DAY = 86_400_000;
let db: DynamoDBDocumentClient;
let store: DynamoAuditStore;
/** Query requests sent, counted at the client. */
let queries = 0;

beforeAll(() => {
  const info = localStack();
  db = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  const counting = {
    send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      if ((command as { operation?: string }).operation === 'Query') queries++;
      return db.send(command);
    },
  } as DynamoDBDocumentClient;
  // Long enough that no record here expires: DynamoDB Local removes expired items as AWS does.
  store = new DynamoAuditStore(counting, info.tables.audit, 365);
});

afterAll(() => db.destroy());

/** The records as one delivered batch: in packs. */
async function put(records: AuditRecord[]): Promise<void> {
  const packs = packAuditRecords(records);
  for (let i = 0; i < packs.length; i += 25) expect(await store.putPacks(packs.slice(i, i + 25))).toEqual([]);
}

auditStoreContract('DynamoAuditStore on DynamoDB Local', () => store);

const iso = (time: number) => new Date(time).toISOString();
const newestFirst = (records: AuditRecord[]) => [...records].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));

describe('DynamoAuditStore.query', () => {
  // Yesterday at noon (UTC): every record is recent, and the windows cross day boundaries the same way every day.
  const today = new Date().toISOString().slice(0, 10);
  const end = Date.parse(`${today}T12:00:00.000Z`) - DAY;
  const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

  it("answers the partition's records in the window, newest first across days, its bounds included", async () => {
    const vault = uniqueName('auditq');
    const start = end - 3 * DAY;
    const inside = [
      auditRecordAt(vault, start),
      auditRecordAt(vault, start + 1),
      auditRecordAt(vault, end - 2 * DAY),
      // The last instant of a day and the first of the next.
      auditRecordAt(vault, Date.parse(`${dayOf(end - DAY)}T23:59:59.999Z`)),
      auditRecordAt(vault, Date.parse(`${dayOf(end)}T00:00:00.000Z`)),
      auditRecordAt(vault, end),
    ];
    const outside = [
      auditRecordAt(vault, start - 1),
      auditRecordAt(vault, end + 1),
      auditRecordAt(vault, end - 10 * DAY),
      auditRecordAt(uniqueName('other'), end - DAY),
    ];
    await put([...inside, ...outside]);
    const page = await store.query(vault, { startTime: iso(start), endTime: iso(end), top: 100 });
    expect(page.records).toEqual(newestFirst(inside));
    expect(page.continuation).toBeUndefined();
  });

  it('pages `top` at a time through continuations, each record once, in order', async () => {
    const vault = uniqueName('auditq');
    const records = Array.from({ length: 23 }, (_, i) => auditRecordAt(vault, end - i * 5 * 3_600_000));
    await put(records);
    const pages = await allPages(store, vault, { startTime: iso(end - 10 * DAY), endTime: iso(end), top: 4 });
    for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(4);
    expect(pages.flatMap((p) => p.records)).toEqual(newestFirst(records));
    // Full pages until the records run out: 23 records are 6 pages of 4, 4, 4, 4, 4, 3.
    expect(pages.map((p) => p.records.length)).toEqual([4, 4, 4, 4, 4, 3]);
  });

  it('bounds the requests one call makes: a sparse window is read over several short pages, and nothing is lost', async () => {
    const vault = uniqueName('auditq');
    const start = end - 99 * DAY;
    const oldest = auditRecordAt(vault, start + 60_000);
    const newest = auditRecordAt(vault, end);
    await put([oldest, newest]);
    const before = queries;
    const first = await store.query(vault, { startTime: iso(start), endTime: iso(end), top: 10 });
    expect(queries - before).toBeLessThanOrEqual(32);
    expect(first.records).toEqual([newest]);
    expect(first.continuation).toBeDefined();
    const counts: number[] = [];
    let continuation = first.continuation;
    const found: AuditRecord[] = [];
    while (continuation) {
      const sent = queries;
      const page = await store.query(vault, { startTime: iso(start), endTime: iso(end), top: 10, continuation });
      counts.push(queries - sent);
      found.push(...page.records);
      continuation = page.continuation;
    }
    expect(found).toEqual([oldest]);
    for (const count of counts) expect(count).toBeLessThanOrEqual(32);
    // 100 day partitions, at most 32 a call: four calls in all.
    expect(counts.length + 1).toBe(4);
  });

  it('ends, without an error, when a later start has passed the position a continuation holds', async () => {
    const vault = uniqueName('auditq');
    const records = Array.from({ length: 6 }, (_, i) => auditRecordAt(vault, end - i * 3_600_000));
    await put(records);
    const first = await store.query(vault, { startTime: iso(end - DAY), endTime: iso(end), top: 3 });
    expect(first.continuation).toBeDefined();
    // The retention window moved on between the pages: the next page's start is after its position.
    const next = await store.query(vault, { startTime: iso(end - 2 * 3_600_000 + 1), endTime: iso(end), top: 3, continuation: first.continuation });
    expect(next).toEqual({ records: [] });
  });

  it('reads the items a release before packs wrote (one record an item, its fields as attributes) beside packs', async () => {
    const vault = uniqueName('auditq');
    const info = localStack();
    const legacy = [auditRecordAt(vault, end - 1500), auditRecordAt(vault, end - 3500, { operationName: 'SecretSet' })];
    for (const old of legacy) {
      const expiresAt = Math.floor(Date.parse(old.time) / 1000) + 365 * 86_400;
      await db.send(
        new PutCommand({
          TableName: info.tables.audit,
          Item: { pk: `${vault}#${old.time.slice(0, 10)}`, sk: `${old.time}#${old.requestId}`, ...old, expiresAt },
        }),
      );
    }
    const packed = Array.from({ length: 5 }, (_, i) => auditRecordAt(vault, end - i * 1000));
    await put(packed);
    const window = { startTime: iso(end - DAY), endTime: iso(end) };
    const all = newestFirst([...legacy, ...packed]);
    expect((await store.query(vault, { ...window, top: 100 })).records).toEqual(all);
    const paged = await allPages(store, vault, { ...window, top: 2 });
    expect(paged.flatMap((p) => p.records)).toEqual(all);
    expect((await store.query(vault, { ...window, top: 100, operationName: 'SecretSet' })).records).toEqual([legacy[1]]);
  });
});
