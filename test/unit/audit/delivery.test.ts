import { describe, expect, it } from 'vitest';
import { subscriptionEvent } from '../../../dev/audit-delivery.ts';
import { AuditDeliveryIncomplete, deliverAuditRecords, type LogEvent, subscriptionData } from '../../../lib/audit/delivery.ts';
import { auditLine } from '../../../lib/audit/log-stream.ts';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { auditRecord, MemoryAuditStore } from './records.ts';

let nextId = 0;
const events = (...messages: string[]): LogEvent[] => messages.map((message) => ({ id: String(nextId++), message }));
const lines = (records: AuditRecord[]) => events(...records.map((r) => auditLine(r).trimEnd()));
const noPause = async () => undefined;

/** Records newest first by key, as packs hold them. */
const newestFirst = (records: AuditRecord[]) => [...records].sort((a, b) => (`${a.time}#${a.requestId}` < `${b.time}#${b.requestId}` ? 1 : -1));
const requestIds = (records: AuditRecord[]) => records.map((r) => r.requestId).sort();

describe('audit delivery', () => {
  it("writes a batch's records in packs, one per partition (vault and day) here, and passes over the other log lines", async () => {
    const time = Date.parse('2026-06-15T12:00:00.000Z');
    const vault1 = Array.from({ length: 60 }, (_, i) => auditRecord({ time: new Date(time - i * 100).toISOString() }));
    const vault2 = Array.from({ length: 3 }, (_, i) => auditRecord({ vault: 'vault2', time: new Date(time - i).toISOString() }));
    const yesterday = [auditRecord({ time: new Date(time - 86_400_000).toISOString() })];
    const store = new MemoryAuditStore();
    const all = [...vault1, ...vault2, ...yesterday];
    const outcome = await deliverAuditRecords([...lines(all), ...events('{"level":"INFO","message":"request"}')], store, { pause: noPause });
    expect(outcome).toEqual({ delivered: 64, ignored: 1, malformed: [] });
    // One request with three items: sixty records in one, three in another, the lone record of another day as itself.
    expect(store.batches.map((batch) => batch.map((pack) => pack.records.length).sort((a, b) => b - a))).toEqual([[60, 3, 1]]);
    expect(requestIds(store.records())).toEqual(requestIds(all));
    const packOf = (vault: string, count: number) => [...store.packs.values()].find((p) => p.vault === vault && p.records.length === count)!;
    expect(packOf('vault1', 60).records).toEqual(newestFirst(vault1));
    expect(packOf('vault2', 3).records).toEqual(newestFirst(vault2));
    expect(packOf('vault1', 1).records).toEqual(yesterday);
  });

  it('sends at most 25 packs per store request', async () => {
    // Sixty vaults, a record each: sixty packs of one.
    const records = Array.from({ length: 60 }, (_, i) => auditRecord({ vault: `vault${i}` }));
    const store = new MemoryAuditStore();
    await deliverAuditRecords(lines(records), store, { pause: noPause });
    expect(store.batches.map((b) => b.length)).toEqual([25, 25, 10]);
    expect(requestIds(store.records())).toEqual(requestIds(records));
  });

  it('writes a record that comes twice in one batch once', async () => {
    const record = auditRecord();
    const store = new MemoryAuditStore();
    const outcome = await deliverAuditRecords(lines([record, record]), store, { pause: noPause });
    expect(outcome.delivered).toBe(1);
    expect(store.writes).toBe(1);
    expect(store.records()).toEqual([record]);
  });

  it('stores each record once however often its batch is delivered: the same packs under the same keys', async () => {
    const records = [auditRecord(), auditRecord(), auditRecord()];
    const store = new MemoryAuditStore();
    for (let i = 0; i < 3; i++) await deliverAuditRecords(lines(records), store, { pause: noPause });
    expect(store.writes).toBe(3);
    expect(store.packs.size).toBe(1);
    expect(requestIds(store.records())).toEqual(requestIds(records));
  });

  it('sends again, unchanged, the packs the store left unwritten until all of them are written', async () => {
    const records = Array.from({ length: 30 }, (_, i) => auditRecord({ vault: `vault${i % 10}` }));
    // The first two answers leave all but one pack of each batch unwritten, as DynamoDB does under throttling.
    const store = new MemoryAuditStore((batch, call) => (call <= 2 ? batch.slice(1) : []));
    const pauses: number[] = [];
    const outcome = await deliverAuditRecords(lines(records), store, { pause: async (round) => void pauses.push(round) });
    expect(outcome.delivered).toBe(30);
    expect(store.packs.size).toBe(10);
    expect(store.writes).toBe(10);
    expect(requestIds(store.records())).toEqual(requestIds(records));
    expect(pauses).toEqual([1, 2]);
    // What was sent again is what was left: the same packs, not the records cut anew.
    expect(store.batches[1]).toEqual(store.batches[0]!.slice(1));
  });

  it('fails, for the batch to be delivered again, when the store keeps leaving packs unwritten', async () => {
    const records = [auditRecord(), auditRecord({ vault: 'vault2' }), auditRecord({ vault: 'vault2' })];
    // The store never takes vault2's pack.
    const store = new MemoryAuditStore((batch) => batch.filter((p) => p.vault === 'vault2'));
    const failure = await deliverAuditRecords(lines(records), store, { pause: noPause, maxRounds: 4 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuditDeliveryIncomplete);
    expect((failure as AuditDeliveryIncomplete).unwritten).toBe(2);
    expect(store.batches).toHaveLength(4);
    // Delivered again, with the store well: nothing is missing and nothing is doubled.
    const recovered = new MemoryAuditStore();
    for (const [key, pack] of store.packs) recovered.packs.set(key, pack);
    await deliverAuditRecords(lines(records), recovered, { pause: noPause });
    expect(recovered.packs.size).toBe(2);
    expect(requestIds(recovered.records())).toEqual(requestIds(records));
  });

  it('fails at once when the store fails', async () => {
    const store = new MemoryAuditStore();
    store.putPacks = async () => {
      throw new Error('ResourceNotFoundException');
    };
    await expect(deliverAuditRecords(lines([auditRecord()]), store, { pause: noPause })).rejects.toThrow('ResourceNotFoundException');
  });

  it('names the log events that carry the marker but no valid record, writes the rest, and does not fail on them', async () => {
    const good = auditRecord();
    const [bad] = events(JSON.stringify({ cofferAudit: 1, record: { vault: 'v' } }));
    const store = new MemoryAuditStore();
    const outcome = await deliverAuditRecords([...lines([good]), bad!], store, { pause: noPause });
    expect(outcome).toEqual({ delivered: 1, ignored: 0, malformed: [bad!.id] });
    expect(store.records()).toEqual([good]);
  });
});

describe('the subscription event', () => {
  it('carries the log events gzipped and base64-encoded, as CloudWatch Logs sends them', () => {
    const logEvents = [{ id: '1', timestamp: 1_700_000_000_000, message: auditLine(auditRecord()).trimEnd() }];
    const event = subscriptionEvent(logEvents);
    expect(event.awslogs.data).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(subscriptionData(event)).toMatchObject({ messageType: 'DATA_MESSAGE', logEvents });
  });
});
