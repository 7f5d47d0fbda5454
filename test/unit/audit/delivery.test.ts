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

describe('audit delivery', () => {
  it('writes each record a batch carries, in batches the store takes, and passes over the other log lines', async () => {
    const records = Array.from({ length: 60 }, () => auditRecord());
    const store = new MemoryAuditStore();
    const outcome = await deliverAuditRecords([...lines(records), ...events('{"level":"INFO","message":"request"}')], store, { pause: noPause });
    expect(outcome).toEqual({ delivered: 60, ignored: 1, malformed: [] });
    expect([...store.items.values()]).toEqual(records);
    expect(store.batches.map((b) => b.length)).toEqual([25, 25, 10]);
  });

  it('writes a record that comes twice in one batch once', async () => {
    const record = auditRecord();
    const store = new MemoryAuditStore();
    const outcome = await deliverAuditRecords(lines([record, record]), store, { pause: noPause });
    expect(outcome.delivered).toBe(1);
    expect(store.writes).toBe(1);
  });

  it('stores each record once however often its batch is delivered', async () => {
    const records = [auditRecord(), auditRecord(), auditRecord()];
    const store = new MemoryAuditStore();
    for (let i = 0; i < 3; i++) await deliverAuditRecords(lines(records), store, { pause: noPause });
    expect(store.items.size).toBe(3);
    expect([...store.items.values()]).toEqual(records);
  });

  it('sends again what the store left unwritten until all of it is written', async () => {
    const records = Array.from({ length: 30 }, () => auditRecord());
    // The first two answers leave all but one record of each batch unwritten, as DynamoDB does under throttling.
    const store = new MemoryAuditStore((batch, call) => (call <= 2 ? batch.slice(1) : []));
    const pauses: number[] = [];
    const outcome = await deliverAuditRecords(lines(records), store, { pause: async (round) => void pauses.push(round) });
    expect(outcome.delivered).toBe(30);
    expect(store.items.size).toBe(30);
    expect(store.writes).toBe(30);
    expect(pauses.length).toBeGreaterThan(0);
  });

  it('fails, for the batch to be delivered again, when the store keeps leaving records unwritten', async () => {
    const records = [auditRecord(), auditRecord()];
    // The store never takes the second record.
    const store = new MemoryAuditStore((batch) => batch.filter((r) => r.requestId === records[1]!.requestId));
    const failure = await deliverAuditRecords(lines(records), store, { pause: noPause, maxRounds: 4 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuditDeliveryIncomplete);
    expect((failure as AuditDeliveryIncomplete).unwritten).toBe(1);
    expect(store.batches).toHaveLength(4);
    // Delivered again, with the store well: nothing is missing and nothing is doubled.
    const recovered = new MemoryAuditStore();
    for (const [key, record] of store.items) recovered.items.set(key, record);
    await deliverAuditRecords(lines(records), recovered, { pause: noPause });
    expect([...recovered.items.values()].map((r) => r.requestId).sort()).toEqual(records.map((r) => r.requestId).sort());
  });

  it('fails at once when the store fails', async () => {
    const store = new MemoryAuditStore();
    store.putBatch = async () => {
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
    expect([...store.items.values()]).toEqual([good]);
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
