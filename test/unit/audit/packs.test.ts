import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import {
  decodePackRecords,
  MAX_PACK_BYTES,
  MAX_PACK_JSON_BYTES,
  MAX_PACK_RECORDS,
  MAX_PACK_SPAN_MS,
  packAuditRecords,
} from '../../../lib/audit/packs.ts';
import { auditKey } from '../../../lib/aws/dynamo/layout.ts';
import { auditRecord } from './records.ts';

const END = Date.parse('2026-06-15T12:00:00.000Z');
const iso = (time: number) => new Date(time).toISOString();
const key = (r: AuditRecord) => `${r.time}#${r.requestId}`;
const newestFirst = (records: AuditRecord[]) => [...records].sort((a, b) => (key(a) < key(b) ? 1 : -1));
/** Records a millisecond apart, newest at END. */
const recordsAt = (count: number, overrides: (i: number) => Partial<AuditRecord> = () => ({})) =>
  Array.from({ length: count }, (_, i) => auditRecord({ time: iso(END - i), ...overrides(i) }));

describe('packing audit records', () => {
  it("packs one partition's records newest first, compressed to what they hold, with its newest and oldest times", () => {
    const records = recordsAt(40);
    const shuffled = [...records].sort(() => Math.random() - 0.5);
    const [pack, ...others] = packAuditRecords(shuffled);
    expect(others).toEqual([]);
    expect(pack!.records).toEqual(newestFirst(records));
    expect(pack!.newest).toBe(iso(END));
    expect(pack!.oldest).toBe(iso(END - 39));
    expect(decodePackRecords(pack!.compressed!)).toEqual(newestFirst(records));
    // Several-fold smaller than the records' JSON: what the packing is for.
    expect(pack!.compressed!.byteLength * 3).toBeLessThan(Buffer.byteLength(JSON.stringify(records)));
  });

  it('gives the same packs, under the same ids, for the same records in any order, and other ids for other records', () => {
    const records = recordsAt(30, (i) => ({ vault: i % 2 ? 'vault1' : 'vault2' }));
    const once = packAuditRecords(records);
    const again = packAuditRecords([...records].reverse());
    expect(again.map((p) => p.id).sort()).toEqual(once.map((p) => p.id).sort());
    expect(new Set(once.map((p) => p.id)).size).toBe(once.length);
    const fewer = packAuditRecords(records.slice(1));
    const ids = new Set(once.map((p) => p.id));
    expect(fewer.filter((p) => ids.has(p.id)).length).toBe(1);
    for (const pack of once) expect(pack.id).toMatch(/^~[\w-]{22}$/);
  });

  it('keeps a lone record under its own key, uncompressed, so writing it again replaces it', () => {
    const record = auditRecord({ time: iso(END) });
    const [pack, ...others] = packAuditRecords([record]);
    expect(others).toEqual([]);
    expect(pack!.compressed).toBeUndefined();
    expect(pack!.records).toEqual([record]);
    expect(auditKey(pack!.vault, pack!.newest, pack!.id)).toEqual(auditKey(record.vault, record.time, record.requestId));
  });

  it('packs a record that comes twice once', () => {
    const record = auditRecord();
    const [pack] = packAuditRecords([record, { ...record }]);
    expect(pack!.records).toEqual([record]);
  });

  it('cuts by partition: one vault and one UTC day per pack', () => {
    const midnight = Date.parse('2026-06-15T00:00:00.000Z');
    const records = [
      auditRecord({ time: iso(midnight) }),
      auditRecord({ time: iso(midnight + 1) }),
      auditRecord({ time: iso(midnight - 1) }),
      auditRecord({ time: iso(midnight - 2) }),
      auditRecord({ time: iso(midnight), vault: 'vault2' }),
    ];
    const packs = packAuditRecords(records);
    expect(packs.map((p) => [p.vault, p.newest.slice(0, 10), p.records.length]).sort()).toEqual([
      ['vault1', '2026-06-14', 2],
      ['vault1', '2026-06-15', 2],
      ['vault2', '2026-06-15', 1],
    ]);
  });

  it('cuts at most MAX_PACK_RECORDS records into a pack', () => {
    // Records as short as they come, so that the count cuts before the size does.
    const short = {
      operationVersion: undefined,
      callerIpAddress: undefined,
      identity: undefined,
      id: undefined,
      clientInfo: undefined,
      requestUri: '/',
    };
    const records = recordsAt(2 * MAX_PACK_RECORDS + 1, () => short);
    const packs = packAuditRecords(records);
    expect(packs.map((p) => p.records.length)).toEqual([MAX_PACK_RECORDS, MAX_PACK_RECORDS, 1]);
    expect(packs.flatMap((p) => p.records)).toEqual(newestFirst(records));
  });

  it('cuts at most MAX_PACK_SPAN_MS between a pack’s newest and oldest record', () => {
    const records = Array.from({ length: 13 }, (_, i) => auditRecord({ time: iso(END - i * (MAX_PACK_SPAN_MS / 4)) }));
    const packs = packAuditRecords(records);
    for (const pack of packs) expect(Date.parse(pack.newest) - Date.parse(pack.oldest)).toBeLessThanOrEqual(MAX_PACK_SPAN_MS);
    // Five records span exactly the bound: 13 records are packs of 5, 5 and 3.
    expect(packs.map((p) => p.records.length)).toEqual([5, 5, 3]);
  });

  it('cuts at most MAX_PACK_JSON_BYTES of records into a pack, and compresses none above MAX_PACK_BYTES', () => {
    // Long, random request URIs barely compress: the size bounds cut, not the count.
    const noise = (i: number) => Buffer.from(Array.from({ length: 1500 }, (_, j) => (i * 7919 + j * 104_729) % 251)).toString('base64');
    const records = recordsAt(400, (i) => ({ requestUri: `https://vault1.vault.test/secrets/${noise(i)}` }));
    const packs = packAuditRecords(records);
    expect(packs.length).toBeGreaterThan(2);
    for (const pack of packs) {
      expect(Buffer.byteLength(JSON.stringify(pack.records))).toBeLessThanOrEqual(MAX_PACK_JSON_BYTES);
      expect(pack.compressed!.byteLength).toBeLessThanOrEqual(MAX_PACK_BYTES);
    }
    expect(packs.flatMap((p) => p.records)).toEqual(newestFirst(records));
  });
});
