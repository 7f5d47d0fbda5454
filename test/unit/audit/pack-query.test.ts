import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { MAX_PACK_SPAN_MS, packAuditRecords } from '../../../lib/audit/packs.ts';
import { auditStoreContract } from '../../support/audit-store-contract.ts';
import { auditRecord, MemoryAuditStore } from './records.ts';

/**
 * The query's merge over packs (lib/audit/pack-query.ts) against the in-memory store: the contract the
 * DynamoDB store is held to as well, once with Queries that answer everything asked for and once with
 * Queries that stop after two items (as DynamoDB stops at a megabyte), and the bound on the requests
 * one call makes.
 */
auditStoreContract('the in-memory store', () => new MemoryAuditStore());

auditStoreContract('the in-memory store, two items a Query', () => {
  const store = new MemoryAuditStore();
  store.pageSize = 2;
  return store;
});

const iso = (time: number) => new Date(time).toISOString();
const END = Date.parse('2026-06-15T12:00:00.000Z');
const key = (r: AuditRecord) => `${r.time}#${r.requestId}`;

async function deliver(store: MemoryAuditStore, records: AuditRecord[]): Promise<void> {
  expect(await store.putPacks(packAuditRecords(records))).toEqual([]);
}

/** Every page of the query at most `maxQueries` Queries a call, and the Queries each call made. */
async function pagesOf(store: MemoryAuditStore, startTime: string, top: number, maxQueries: number) {
  const found: AuditRecord[] = [];
  const reads: number[] = [];
  let continuation: string | undefined;
  do {
    const before = store.reads;
    const page = await store.query('vault1', { startTime, endTime: iso(END), top, continuation }, maxQueries);
    reads.push(store.reads - before);
    found.push(...page.records);
    continuation = page.continuation;
  } while (continuation && reads.length < 1000);
  return { found, reads, continuation };
}

describe('the bound on the requests of one call', () => {
  it('ends a page short, with a continuation, after the bound, and the pages that follow answer the rest once', async () => {
    const store = new MemoryAuditStore();
    store.pageSize = 1;
    // Lone records further apart than a pack's span: every Query reads one, and none re-reads another page's.
    const records = Array.from({ length: 20 }, (_, i) => auditRecord({ time: iso(END - i * 2 * MAX_PACK_SPAN_MS) }));
    for (const record of records) await store.put(record);
    const { found, reads, continuation } = await pagesOf(store, iso(END - 86_400_000 / 2), 100, 3);
    expect(continuation).toBeUndefined();
    expect(found.map(key)).toEqual(records.map(key));
    expect(reads.length).toBeGreaterThan(1);
    for (const count of reads) expect(count).toBeLessThanOrEqual(3);
  });

  it('goes past the bound only until the page moves below where it began, so paging always ends', async () => {
    const store = new MemoryAuditStore();
    store.pageSize = 1;
    // Sixty packs a second apart: a continuation re-reads the packs a span above it, more than the bound.
    const records: AuditRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const pack = [auditRecord({ time: iso(END - i * 1000) }), auditRecord({ time: iso(END - i * 1000 - 500) })];
      records.push(...pack);
      await deliver(store, pack);
    }
    const { found, continuation, reads } = await pagesOf(store, iso(END - 3_600_000), 5, 4);
    expect(continuation).toBeUndefined();
    expect(found.map(key)).toEqual([...records].sort((a, b) => (key(a) < key(b) ? 1 : -1)).map(key));
    // Each call read more than the bound at most by the packs of one span above its position.
    for (const count of reads) expect(count).toBeLessThanOrEqual(4 + MAX_PACK_SPAN_MS / 1000 + 1);
  });

  it('ends without a continuation once the walk reaches the window start with a full page', async () => {
    const store = new MemoryAuditStore();
    const records = Array.from({ length: 3 }, (_, i) => auditRecord({ time: iso(END - i * 1000) }));
    await deliver(store, records);
    const page = await store.query('vault1', { startTime: iso(END - 3600_000), endTime: iso(END), top: 3 });
    expect(page).toEqual({ records: [...records].sort((a, b) => (key(a) < key(b) ? 1 : -1)) });
  });

  it('refuses a continuation that is no position of its own', async () => {
    const store = new MemoryAuditStore();
    await expect(store.query('vault1', { startTime: iso(END - 1000), endTime: iso(END), top: 3, continuation: 'nonsense' })).rejects.toThrow(
      "'$skiptoken'",
    );
  });
});
