import { open, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent, CloudWatchLogsLogEvent, Context } from 'aws-lambda';
import { mayBeAuditLine } from '#lib/audit/log-stream';
import { readFileIfExists, writePrivateFile } from './files.ts';
import { lambdaContext } from './lambda-event.ts';

/**
 * The local stack's CloudWatch Logs subscription: it follows the log the gateway's functions write
 * (their standard output, as a Lambda function's goes to its log stream), picks the audit lines as
 * the subscription filter does, and hands them to the delivery function in the event shape
 * CloudWatch Logs invokes it with. A failed delivery is tried again, after a growing pause, until it
 * succeeds: nothing moves past a batch that was not delivered. How far delivery got is kept in a
 * state file, so a restart delivers what the last run did not, and nothing twice that it did
 * (delivering twice would be harmless: the store is idempotent by record).
 */
export type DeliveryHandler = (event: CloudWatchLogsEvent, context: Context) => Promise<unknown>;

export interface AuditDeliveryOptions {
  /** The log the functions write to. */
  logFile: string;
  /** Where the offset up to which the log was delivered is kept (owner-only). */
  stateFile: string;
  deliver: DeliveryHandler;
  /** Log events per invocation; CloudWatch Logs batches similarly. */
  batchSize?: number;
  /** Pause between looks at the log. */
  pollMs?: number;
  /** Pause before the n-th retry of a failed delivery (n >= 1). */
  retryDelayMs?: (retry: number) => number;
  /** Where failures are reported: they are the operator's to see, as the delivery function's errors are in AWS. */
  warn?: (message: string) => void;
}

export interface AuditDelivery {
  stop(): Promise<void>;
}

const LOG_GROUP = '/aws/lambda/coffer-local-gateway';
const FILTER_NAME = 'coffer-audit';
/** At most this much of the log is read per look, so a long undelivered backlog is worked through in steps. */
const MAX_READ_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

export async function startAuditDelivery(options: AuditDeliveryOptions): Promise<AuditDelivery> {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 100;
  const retryDelayMs = options.retryDelayMs ?? ((retry: number) => Math.min(5_000, 100 * 2 ** (retry - 1)));
  const warn = options.warn ?? ((message: string) => console.error(message));
  let offset = await savedOffset(options.stateFile);
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Delivers one batch; false if stopping interrupted its retries (it stays undelivered in the log). */
  const deliver = async (events: CloudWatchLogsLogEvent[]): Promise<boolean> => {
    for (let retry = 0; ; retry++) {
      if (retry > 0 && stopping) return false;
      try {
        await options.deliver(subscriptionEvent(events), lambdaContext('DeliverAuditRecords'));
        return true;
      } catch (error) {
        warn(`audit delivery of ${events.length} records failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
        await pause(retryDelayMs(retry + 1));
      }
    }
  };

  /** Delivers what the log holds past the offset, batch by batch, moving the offset past each delivered batch. */
  const cycle = async (): Promise<void> => {
    const size = (await stat(options.logFile).catch(() => undefined))?.size ?? 0;
    // A log smaller than what was delivered was replaced: its lines are all new.
    if (size < offset) offset = 0;
    if (size === offset) return;
    const base = offset;
    const chunk = await readRange(options.logFile, base, Math.min(size, base + MAX_READ_BYTES));
    const end = chunk.lastIndexOf(NEWLINE) + 1;
    if (end === 0) {
      // A line still being written is left for the next look; one longer than a whole read is no log line anyone wrote.
      if (chunk.length === MAX_READ_BYTES) offset = base + chunk.length;
      return;
    }
    let batch: CloudWatchLogsLogEvent[] = [];
    let batchEnd = base;
    const flush = async (): Promise<boolean> => {
      if (batch.length > 0 && !(await deliver(batch))) return false;
      batch = [];
      offset = batchEnd;
      await writePrivateFile(options.stateFile, JSON.stringify({ offset }));
      return true;
    };
    for (let start = 0; start < end; ) {
      const stop = chunk.indexOf(NEWLINE, start);
      const line = chunk.subarray(start, stop).toString('utf8');
      if (mayBeAuditLine(line)) batch.push({ id: String(base + start), timestamp: Date.now(), message: line });
      batchEnd = base + stop + 1;
      start = stop + 1;
      if (batch.length === batchSize && !(await flush())) return;
    }
    await flush();
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await cycle();
      } catch (error) {
        warn(`audit delivery could not read ${options.logFile}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!stopping) await pause(pollMs);
    }
    // What the functions wrote last, once, without waiting out failures: undelivered lines stay for the next start.
    await cycle().catch(() => undefined);
  })();

  return {
    stop: async () => {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}

/** The event a CloudWatch Logs subscription invokes its Lambda function with. */
export function subscriptionEvent(logEvents: CloudWatchLogsLogEvent[]): CloudWatchLogsEvent {
  const data: CloudWatchLogsDecodedData = {
    messageType: 'DATA_MESSAGE',
    owner: '000000000000',
    logGroup: LOG_GROUP,
    logStream: 'local',
    subscriptionFilters: [FILTER_NAME],
    logEvents,
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}

async function savedOffset(stateFile: string): Promise<number> {
  const saved = await readFileIfExists(stateFile);
  const offset = saved ? (JSON.parse(saved) as { offset?: unknown }).offset : 0;
  return typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
