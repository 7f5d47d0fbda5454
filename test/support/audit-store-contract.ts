import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, AuditStore } from '../../lib/audit/audit.ts';
import { MAX_PACK_SPAN_MS, packAuditRecords } from '../../lib/audit/packs.ts';
import type { AuditFilter, AuditPage, AuditReader } from '../../lib/audit/query.ts';

/**
 * What an audit store that keeps records in packs (lib/audit/packs.ts) answers, whatever it keeps
 * them in: run against the DynamoDB store on DynamoDB Local (test/integration/audit-query.test.ts)
 * and against the in-memory store the unit tests use (test/unit/audit/pack-query.test.ts), so the
 * fake cannot drift from the store it stands for. Records come in packs cut by the production
 * packing, from several log streams whose packs overlap in time, some of them twice and cut
 * differently, beside lone records (a strict vault's, or an item written before packs).
 */
export type ContractStore = AuditStore & AuditReader;

const SECOND = 1000;
const DAY = 86_400_000;
const iso = (time: number) => new Date(time).toISOString();
const key = (r: AuditRecord) => `${r.time}#${r.requestId}`;

/** A record of `vault` at `time` (epoch milliseconds), read by `oid-reader`. */
export function auditRecordAt(vault: string, time: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: iso(time),
    vault,
    requestId: randomUUID(),
    operationName: 'SecretGet',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    httpStatusCode: 200,
    durationMs: 1,
    requestUri: `https://${vault}.vault.localhost/secrets/db`,
    identity: { oid: 'oid-reader', tid: 'tenant-1' },
    ...overrides,
  };
}

/** The records as the delivery writes one batch of them: packed, 25 packs a request, nothing left unwritten. */
async function deliver(store: ContractStore, records: AuditRecord[]): Promise<void> {
  const packs = packAuditRecords(records);
  for (let i = 0; i < packs.length; i += 25) expect(await store.putPacks(packs.slice(i, i + 25))).toEqual([]);
}

/** Each log stream's records, `batch` at a time, as the subscription hands them over. */
async function deliverStreams(store: ContractStore, streams: AuditRecord[][], batch: number): Promise<void> {
  for (const stream of streams) for (let i = 0; i < stream.length; i += batch) await deliver(store, stream.slice(i, i + batch));
}

/** What a query must answer: the records in the window that match, each once, newest first. */
function expected(records: AuditRecord[], filter: Omit<AuditFilter, 'top' | 'continuation'>): AuditRecord[] {
  const once = new Map(records.map((r) => [key(r), r]));
  return [...once.values()]
    .filter((r) => r.time >= filter.startTime && r.time <= filter.endTime)
    .filter((r) => filter.principalId === undefined || r.identity?.oid === filter.principalId)
    .filter((r) => filter.operationName === undefined || r.operationName === filter.operationName)
    .filter((r) => filter.objectId === undefined || r.id === filter.objectId || (r.id?.startsWith(`${filter.objectId}/`) ?? false))
    .sort((a, b) => (key(a) < key(b) ? 1 : -1));
}

/** Every page of a query, following its continuations (a bounded number, so a loop fails the test instead of hanging it). */
export async function allPages(store: AuditReader, vault: string, filter: Omit<AuditFilter, 'continuation'>): Promise<AuditPage[]> {
  const pages: AuditPage[] = [];
  let continuation: string | undefined;
  do {
    const page = await store.query(vault, { ...filter, continuation });
    pages.push(page);
    continuation = page.continuation;
  } while (continuation && pages.length < 500);
  expect(continuation).toBeUndefined();
  return pages;
}

/** A small deterministic generator, so a failing case is the same case on the next run. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  return { next, pick: <T>(values: readonly T[]) => values[Math.floor(next() * values.length)]! };
}

export function auditStoreContract(name: string, makeStore: () => ContractStore): void {
  describe(`${name}: packed audit records`, () => {
    // Yesterday at noon (UTC): every record is recent, and the windows cross day boundaries the same way every day.
    const today = new Date().toISOString().slice(0, 10);
    const end = Date.parse(`${today}T12:00:00.000Z`) - DAY;
    const vaultName = () => `contract-${randomUUID().slice(0, 8)}`;

    it('merges the overlapping packs of several log streams into one answer, newest first, and pages through it each record once', async () => {
      const store = makeStore();
      const vault = vaultName();
      // Three log streams taking turns over four minutes: every stream's packs overlap the other two's.
      const streams: AuditRecord[][] = [[], [], []];
      for (let i = 0; i < 120; i++) streams[i % 3]!.push(auditRecordAt(vault, end - i * 2 * SECOND));
      await deliverStreams(store, streams, 15);
      const all = streams.flat();
      const window = { startTime: iso(end - 10 * 60 * SECOND), endTime: iso(end) };
      const whole = await store.query(vault, { ...window, top: 1000 });
      expect(whole).toEqual({ records: expected(all, window) });
      const pages = await allPages(store, vault, { ...window, top: 7 });
      for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(7);
      expect(pages.flatMap((p) => p.records)).toEqual(expected(all, window));
    });

    it('answers a record once though two packs hold it: the same records delivered again, cut into other packs', async () => {
      const store = makeStore();
      const vault = vaultName();
      const records = Array.from({ length: 40 }, (_, i) => auditRecordAt(vault, end - i * 1500));
      await deliver(store, records);
      // Again, in batches that cut differently: every record is now in two items.
      for (let i = 0; i < records.length; i += 6) await deliver(store, records.slice(i, i + 6));
      const window = { startTime: iso(end - DAY), endTime: iso(end) };
      expect((await store.query(vault, { ...window, top: 1000 })).records).toEqual(expected(records, window));
      expect((await allPages(store, vault, { ...window, top: 3 })).flatMap((p) => p.records)).toEqual(expected(records, window));
    });

    it("keeps the window's edges: a pack's records before the start and after the end are not answered, its bounds are", async () => {
      const store = makeStore();
      const vault = vaultName();
      const start = end - 20 * SECOND;
      const times = [start - 1, start, start + 1, end - 1, end, end + 1, end + 10 * SECOND];
      const records = times.map((time) => auditRecordAt(vault, time));
      // One pack holds them all: it begins before the window and ends after it.
      expect(packAuditRecords(records)).toHaveLength(1);
      await deliver(store, records);
      const window = { startTime: iso(start), endTime: iso(end) };
      const inside = expected(records, window);
      expect(inside.map((r) => Date.parse(r.time))).toEqual([end, end - 1, start + 1, start]);
      expect((await store.query(vault, { ...window, top: 100 })).records).toEqual(inside);
      // A window that ends inside a pack whose newest record is later, by up to the pack's span.
      const late = [auditRecordAt(vault, end + MAX_PACK_SPAN_MS), auditRecordAt(vault, end - SECOND)];
      await deliver(store, late);
      expect((await store.query(vault, { ...window, top: 100 })).records).toEqual(expected([...records, ...late], window));
    });

    it('filters by principal, operation and object (the object itself and what is under it, not a sibling) inside packs', async () => {
      const store = makeStore();
      const vault = vaultName();
      const base = `https://${vault}.vault.localhost/secrets`;
      const records = [
        auditRecordAt(vault, end - 1000, {
          identity: { oid: 'oid-app' },
          operationName: 'SecretGet',
          id: `${base}/db/0123456789abcdef0123456789abcdef`,
        }),
        auditRecordAt(vault, end - 2000, { identity: { oid: 'oid-app' }, operationName: 'SecretSet', id: `${base}/db` }),
        auditRecordAt(vault, end - 3000, {
          identity: { oid: 'oid-other' },
          operationName: 'SecretGet',
          id: `${base}/dbx/0123456789abcdef0123456789abcdef`,
        }),
        auditRecordAt(vault, end - DAY, { identity: { oid: 'oid-app' }, operationName: 'SecretGet', id: `${base}/other` }),
        auditRecordAt(vault, end - DAY - 1, { identity: undefined, operationName: 'SecretGet', httpStatusCode: 401 }),
      ];
      await deliver(store, records);
      const window = { startTime: iso(end - 2 * DAY), endTime: iso(end), top: 100 };
      const found = async (filter: Partial<AuditFilter>) =>
        (await allPages(store, vault, { ...window, ...filter }))
          .flatMap((p) => p.records)
          .map((r) => records.findIndex((x) => x.requestId === r.requestId));
      expect(await found({ principalId: 'oid-app' })).toEqual([0, 1, 3]);
      expect(await found({ operationName: 'SecretGet' })).toEqual([0, 2, 3, 4]);
      expect(await found({ objectId: `${base}/db` })).toEqual([0, 1]);
      expect(await found({ objectId: `${base}/db/0123456789abcdef0123456789abcdef` })).toEqual([0]);
      expect(await found({ principalId: 'oid-app', operationName: 'SecretGet', objectId: `${base}/db` })).toEqual([0]);
      expect(await found({ principalId: 'nobody' })).toEqual([]);
    });

    it('reads lone records (a strict vault, or an item from before packs) beside packs; a lone record written again replaces itself', async () => {
      const store = makeStore();
      const vault = vaultName();
      const packed = Array.from({ length: 10 }, (_, i) => auditRecordAt(vault, end - i * SECOND));
      await deliver(store, packed);
      const lone = [auditRecordAt(vault, end - 500), auditRecordAt(vault, end - 4500), auditRecordAt(vault, end - 20 * SECOND)];
      for (const r of lone) await store.put(r);
      // The strict audit's change: its record first as Incomplete, then the final one under the same key.
      const incomplete = auditRecordAt(vault, end - 2500, {
        operationName: 'SecretSet',
        resultType: 'Failure',
        resultSignature: 'Incomplete',
        httpStatusCode: 0,
      });
      await store.put(incomplete);
      const final = { ...incomplete, resultType: 'Success' as const, resultSignature: 'OK', httpStatusCode: 200 };
      await store.put(final);
      const window = { startTime: iso(end - DAY), endTime: iso(end) };
      const all = [...packed, ...lone, final];
      expect((await store.query(vault, { ...window, top: 100 })).records).toEqual(expected(all, window));
      expect((await allPages(store, vault, { ...window, top: 4 })).flatMap((p) => p.records)).toEqual(expected(all, window));
    });

    it('answers every matching record exactly once, newest first, whatever the streams, the re-deliveries, the window, the filters and the page size', async () => {
      const store = makeStore();
      const vault = vaultName();
      const random = generator(20_261_202);
      // Twenty minutes around a midnight, four log streams, a quarter of the batches delivered twice and cut anew.
      const midnight = Date.parse(`${today}T00:00:00.000Z`) - DAY;
      const streams: AuditRecord[][] = [[], [], [], []];
      const oids = ['oid-a', 'oid-b', 'oid-c'];
      const operations = ['SecretGet', 'SecretSet', 'KeySign'];
      const objects = [`https://${vault}.vault.localhost/secrets/a`, `https://${vault}.vault.localhost/secrets/ab`, undefined];
      for (let i = 0; i < 240; i++) {
        const time = midnight - 10 * 60 * SECOND + Math.floor(random.next() * 20 * 60 * SECOND);
        const object = random.pick(objects);
        const overrides: Partial<AuditRecord> = { identity: { oid: random.pick(oids) }, operationName: random.pick(operations) };
        if (object) overrides.id = `${object}/${random.pick(['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'])}`;
        streams[random.pick([0, 1, 2, 3])]!.push(auditRecordAt(vault, time, overrides));
      }
      for (const stream of streams) {
        stream.sort((a, b) => (a.time < b.time ? -1 : 1));
        for (let i = 0; i < stream.length; ) {
          const size = 1 + Math.floor(random.next() * 30);
          await deliver(store, stream.slice(i, i + size));
          if (random.next() < 0.25) await deliver(store, stream.slice(i + 1, i + 1 + size));
          i += size;
        }
      }
      const all = streams.flat();
      for (let q = 0; q < 8; q++) {
        const from = midnight - 11 * 60 * SECOND + Math.floor(random.next() * 12 * 60 * SECOND);
        const to = from + Math.floor(random.next() * 12 * 60 * SECOND);
        const filter: Omit<AuditFilter, 'continuation'> = { startTime: iso(from), endTime: iso(to), top: random.pick([1, 5, 17, 100]) };
        if (random.next() < 0.4) filter.principalId = random.pick(oids);
        if (random.next() < 0.3) filter.operationName = random.pick(operations);
        if (random.next() < 0.3) filter.objectId = objects[0];
        const pages = await allPages(store, vault, filter);
        for (const page of pages) expect(page.records.length).toBeLessThanOrEqual(filter.top);
        expect(pages.flatMap((p) => p.records).map(key), JSON.stringify(filter)).toEqual(expected(all, filter).map(key));
      }
    });
  });
}
