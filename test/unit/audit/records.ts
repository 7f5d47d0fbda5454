import { randomUUID } from 'node:crypto';
import type { AuditPack, AuditRecord, AuditStore } from '../../../lib/audit/audit.ts';
import { type PackRead, type PackSource, queryPacks, type StoredPack } from '../../../lib/audit/pack-query.ts';
import type { AuditFilter, AuditPage, AuditReader } from '../../../lib/audit/query.ts';

/** A record as the pipeline builds one. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: new Date().toISOString(),
    vault: 'vault1',
    requestId: randomUUID(),
    operationName: 'SecretGet',
    operationVersion: '7.6',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    httpStatusCode: 200,
    durationMs: 3,
    callerIpAddress: '127.0.0.1',
    identity: { oid: 'oid-1', appid: 'app-1', tid: 'tenant-1' },
    requestUri: 'https://vault1.vault.test/secrets/db',
    id: 'https://vault1.vault.test/secrets/db/0123456789abcdef0123456789abcdef',
    clientInfo: 'sdk/1',
    ...overrides,
  };
}

/**
 * An audit store in memory, keyed like the DynamoDB one (vault and day; a lone record by its time and
 * request id, a pack by its newest record's time and its id), that counts every item written and
 * leaves packs unwritten as `unprocessed` says, as DynamoDB does under throttling. Its reads are the
 * production merge over a Query of the items in memory that answers at most `pageSize` items a
 * request, as DynamoDB stops at a megabyte; test/support/audit-store-contract.ts holds it and the
 * DynamoDB store to the same behaviour.
 */
export class MemoryAuditStore implements AuditStore, AuditReader {
  /** The items written, by their key: packs, and lone records as packs of one. */
  readonly packs = new Map<string, AuditPack>();
  readonly batches: AuditPack[][] = [];
  writes = 0;
  /** Reads (Queries) made. */
  reads = 0;
  pageSize = Number.POSITIVE_INFINITY;

  constructor(private readonly unprocessed: (batch: readonly AuditPack[], call: number) => readonly AuditPack[] = () => []) {}

  async put(record: AuditRecord): Promise<void> {
    this.writes++;
    const pack = { vault: record.vault, id: record.requestId, newest: record.time, oldest: record.time, records: [record] };
    this.packs.set(key(pack), pack);
  }

  async putPacks(packs: readonly AuditPack[]): Promise<AuditPack[]> {
    const keys = packs.map(key);
    if (new Set(keys).size !== keys.length) throw new Error('Provided list of item keys contains duplicates');
    this.batches.push([...packs]);
    const left = new Set(this.unprocessed(packs, this.batches.length));
    for (const pack of packs) {
      if (left.has(pack)) continue;
      this.writes++;
      this.packs.set(key(pack), pack);
    }
    return packs.filter((pack) => left.has(pack));
  }

  /** Every record the items hold, one entry per stored copy, newest first within an item. */
  records(): AuditRecord[] {
    return [...this.packs.values()].flatMap((pack) => pack.records);
  }

  /** The records stored, once each, by vault and their own key: what a reader finds. */
  get items(): Map<string, AuditRecord> {
    return new Map(this.records().map((record) => [`${record.vault}|${record.time}#${record.requestId}`, record]));
  }

  query(partition: string, filter: AuditFilter, maxQueries?: number): Promise<AuditPage> {
    return queryPacks(this.source(partition), filter, maxQueries);
  }

  /** A Query of one day partition: `low <= sk <= high` highest first, after `after`, at most `limit` (and `pageSize`) items evaluated. */
  source(partition: string): PackSource {
    return {
      read: async (read: PackRead) => {
        this.reads++;
        const prefix = `${partition}|${read.day}`;
        const inRange = [...this.packs.entries()]
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, pack]) => ({ sk: k.slice(partition.length + 1), pack }))
          .filter(({ sk }) => sk >= read.low && sk <= read.high && (read.after === undefined || sk < read.after))
          .sort((a, b) => (a.sk < b.sk ? 1 : -1));
        const evaluated = inRange.slice(0, Math.min(read.limit, this.pageSize));
        const packs: StoredPack[] = evaluated
          .filter(({ pack }) => pack.oldest <= read.notAfter)
          .map(({ sk, pack }) => ({ sk, records: pack.records }));
        return evaluated.length < inRange.length ? { packs, last: evaluated[evaluated.length - 1]!.sk } : { packs };
      },
    };
  }
}

function key(pack: AuditPack): string {
  return `${pack.vault}|${pack.newest}#${pack.id}`;
}
