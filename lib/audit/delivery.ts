import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { AUDIT_BATCH_LIMIT, type AuditPack, type AuditRecord, type AuditStore } from './audit.ts';
import { parseAuditLine } from './log-stream.ts';
import { auditRecordKey, packAuditRecords } from './packs.ts';

/**
 * Delivery: audit records from the functions' log streams into the audit store. CloudWatch Logs
 * invokes the delivery function asynchronously with a batch of log events selected by the audit
 * filter; locally, dev/audit-delivery.ts does the same with the gateway's log. Delivery is
 * at least once (a failed invocation is invoked again with the same batch). A batch's records are
 * written in packs (lib/audit/packs.ts, docs/adr/0026-packed-audit-records.md): the same batch is
 * cut into the same packs under the same keys, so delivering it again replaces what it wrote, and
 * a record that lands in two packs (a batch cut differently, as the local delivery may after a
 * restart) is read once, as the reader de-duplicates by the record's own key.
 */

/** The log events of a subscription's invocation: `awslogs.data` is gzipped JSON, base64-encoded. */
export function subscriptionData(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;
}

export interface LogEvent {
  id: string;
  message: string;
}

export interface DeliveryOutcome {
  /** Records written (or written again) to the store, in as many packs as their partitions and the packs' bounds need. */
  delivered: number;
  /** Log events that were no audit line: the filter let through something else. */
  ignored: number;
  /** Ids of log events that carried the audit marker but no valid record: never written, and not retried (they never will be valid). */
  malformed: string[];
}

export interface DeliveryOptions {
  /** Rounds of sending what the store left unwritten before giving up; the first send is round 0. */
  maxRounds?: number;
  /** The pause before round `n` (n >= 1). */
  pause?: (round: number) => Promise<void>;
}

/** The store still left packs unwritten after every round: the invocation fails, so it is retried with the whole batch. */
export class AuditDeliveryIncomplete extends Error {
  /** `unwritten`: the records in the packs left unwritten. */
  constructor(readonly unwritten: number) {
    super(`${unwritten} audit records were left unwritten by the audit store`);
    this.name = 'AuditDeliveryIncomplete';
  }
}

const DEFAULT_ROUNDS = 8;

/** Full jitter under a ceiling that doubles per round from 50 ms and stops at 2 s. */
async function defaultPause(round: number): Promise<void> {
  const ceiling = Math.min(2_000, 50 * 2 ** (round - 1));
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * Writes the records the log events carry, in packs, a batch of packs per store request, sending the
 * packs the store leaves unwritten again, unchanged, after a pause. An error of the store
 * (unavailable, no permission) ends delivery at once: the caller fails and the batch is delivered
 * again later.
 */
export async function deliverAuditRecords(events: readonly LogEvent[], store: AuditStore, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const maxRounds = options.maxRounds ?? DEFAULT_ROUNDS;
  const pause = options.pause ?? defaultPause;
  const outcome: DeliveryOutcome = { delivered: 0, ignored: 0, malformed: [] };
  // One record per key: a log event delivered twice in one batch is one record.
  const records = new Map<string, AuditRecord>();
  for (const event of events) {
    const line = parseAuditLine(event.message);
    if (line.kind === 'other') outcome.ignored++;
    else if (line.kind === 'malformed') outcome.malformed.push(event.id);
    else records.set(`${line.record.vault}\u0000${auditRecordKey(line.record)}`, line.record);
  }
  let pending = packAuditRecords([...records.values()]);
  for (let round = 0; pending.length > 0; round++) {
    if (round === maxRounds) throw new AuditDeliveryIncomplete(pending.reduce((sum, pack) => sum + pack.records.length, 0));
    if (round > 0) await pause(round);
    const left: AuditPack[] = [];
    for (let i = 0; i < pending.length; i += AUDIT_BATCH_LIMIT) left.push(...(await store.putPacks(pending.slice(i, i + AUDIT_BATCH_LIMIT))));
    pending = left;
  }
  outcome.delivered = records.size;
  return outcome;
}
