import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AuditPack, AuditRecord } from './audit.ts';

/**
 * Packs: several audit records of one partition (vault and UTC day) stored as one item of the audit
 * store, compressed (docs/adr/0026-packed-audit-records.md). The store bills a write per started
 * kilobyte of item, and one record is most of a kilobyte; a pack of a batch's records compresses
 * several-fold, so its records cost a fraction of a write each.
 *
 * A pack is cut so that a reader can find it and open it cheaply: at most `MAX_PACK_RECORDS` records,
 * at most `MAX_PACK_JSON_BYTES` of JSON (which bounds the compressed size too, whatever the ratio),
 * compressed to at most `MAX_PACK_BYTES`, and at most `MAX_PACK_SPAN_MS` between its newest and its
 * oldest record, so a query for a window finds every pack that overlaps it among the packs whose
 * newest record is at most that span after the window (lib/audit/pack-query.ts).
 *
 * The cut depends only on the set of records, and a pack's id only on its records' keys: delivering
 * the same batch again writes the same items again, which replace themselves.
 */

/**
 * Records in one pack at most: a reader decompresses a whole pack to find one record. Records of
 * a usual size (a GetSecret's is about 1 KB of JSON) meet the JSON bound first.
 */
export const MAX_PACK_RECORDS = 250;

/** A pack's records as JSON at most: under DynamoDB's 400 KB item even if they did not compress at all. */
export const MAX_PACK_JSON_BYTES = 128 * 1024;

/** A pack's compressed records at most: a pack that compresses worse is split in two. */
export const MAX_PACK_BYTES = 64 * 1024;

/**
 * The time between a pack's newest and oldest record at most. A query re-reads this span above its
 * window (and above a continuation's position), so it is short; a CloudWatch Logs batch spans
 * seconds, so it rarely cuts one.
 */
export const MAX_PACK_SPAN_MS = 60_000;

/** Sorts after every request id and pack id: `${time}${AFTER_ANY_ID}` is above every key of that time. */
export const AFTER_ANY_ID = '#\uffff';

/**
 * A record's key: its time and request id, unique per record; records sort newest first by it,
 * and a reader de-duplicates by it.
 */
export function auditRecordKey(record: AuditRecord): string {
  return `${record.time}#${record.requestId}`;
}

/** Newest first: the order of the audit API's answers and of every pack's records. */
export function newestFirst(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * The records in packs: grouped by partition, each group newest first and cut by the bounds above.
 * A record that comes twice (by key) is packed once.
 */
export function packAuditRecords(records: readonly AuditRecord[]): AuditPack[] {
  const groups = new Map<string, Map<string, AuditRecord>>();
  for (const record of records) {
    const partition = `${record.vault}\u0000${record.time.slice(0, 10)}`;
    const group = groups.get(partition) ?? new Map<string, AuditRecord>();
    groups.set(partition, group);
    group.set(auditRecordKey(record), record);
  }
  const packs: AuditPack[] = [];
  for (const group of groups.values()) {
    const sorted = [...group.entries()].sort(([a], [b]) => newestFirst(a, b)).map(([, record]) => record);
    let current: AuditRecord[] = [];
    let jsonBytes = 0;
    for (const record of sorted) {
      const size = Buffer.byteLength(JSON.stringify(record)) + 1;
      const newest = current[0];
      if (
        newest &&
        (current.length === MAX_PACK_RECORDS ||
          jsonBytes + size > MAX_PACK_JSON_BYTES ||
          Date.parse(newest.time) - Date.parse(record.time) > MAX_PACK_SPAN_MS)
      ) {
        packs.push(...sealed(current));
        current = [];
        jsonBytes = 0;
      }
      current.push(record);
      jsonBytes += size;
    }
    if (current.length > 0) packs.push(...sealed(current));
  }
  return packs;
}

/**
 * Records cut into a pack, newest first. One record is a pack of its own that the store keeps as the
 * record itself, under the record's own key, uncompressed (it is one write either way): the strict
 * audit's final record replaces its `Incomplete` one. A pack that compresses above `MAX_PACK_BYTES`
 * is halved until it fits.
 */
function sealed(records: AuditRecord[]): AuditPack[] {
  const newest = records[0]!;
  const oldest = records[records.length - 1]!;
  if (records.length === 1) return [{ vault: newest.vault, id: newest.requestId, newest: newest.time, oldest: newest.time, records }];
  const compressed = encodePackRecords(records);
  if (compressed.byteLength > MAX_PACK_BYTES) {
    const half = Math.ceil(records.length / 2);
    return [...sealed(records.slice(0, half)), ...sealed(records.slice(half))];
  }
  return [{ vault: newest.vault, id: packId(records), newest: newest.time, oldest: oldest.time, records, compressed }];
}

/**
 * A short digest of the records' keys. It starts with `~`, which no request id the pipeline makes
 * has (they are UUIDs), so a pack's key never names a lone record's item.
 */
function packId(records: readonly AuditRecord[]): string {
  const digest = createHash('sha256');
  for (const record of records) digest.update(`${auditRecordKey(record)}\n`);
  return `~${digest.digest('base64url').slice(0, 22)}`;
}

/** The records as JSON, raw DEFLATE at the highest level: a pack is written once and read rarely. */
function encodePackRecords(records: readonly AuditRecord[]): Uint8Array {
  const compressed = deflateRawSync(JSON.stringify(records), { level: 9 });
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}

/** A pack's records as `encodePackRecords` wrote them. */
export function decodePackRecords(compressed: Uint8Array): AuditRecord[] {
  return JSON.parse(inflateRawSync(compressed).toString('utf8')) as AuditRecord[];
}
