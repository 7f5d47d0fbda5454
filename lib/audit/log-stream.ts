import { appendFileSync, closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { type AuditHandling, type AuditLog, type AuditRecord, type AuditSink, type AuditStore, auditRecordSchema } from './audit.ts';

/**
 * The function's log stream as the audit transport (docs/adr/0009-audit-through-the-log-stream.md).
 * A record is one JSON line, `{"cofferAudit":1,"record":{...}}`, written to the function's standard
 * output before the response leaves; in Lambda, CloudWatch Logs stores it and a subscription filter
 * on the marker hands it to the delivery function, which writes it to the audit store. No log line
 * the functions write otherwise has the marker at its top level (Powertools' lines carry their own
 * fixed keys), so the filter selects records only.
 */
const MARKER = 'cofferAudit';

/** The CloudWatch Logs subscription filter pattern that selects audit lines. */
export const AUDIT_LOG_FILTER_PATTERN = `{ $.${MARKER} = 1 }`;

export function auditLine(record: AuditRecord): string {
  // JSON.stringify escapes line breaks, so a record is always exactly one line.
  return `${JSON.stringify({ [MARKER]: 1, record })}\n`;
}

/** What a log line is to the delivery: not an audit line, an audit record, or an audit line that does not hold a valid record. */
export type ParsedLine = { kind: 'other' } | { kind: 'record'; record: AuditRecord } | { kind: 'malformed' };

export function parseAuditLine(message: string): ParsedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { kind: 'other' };
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as Record<string, unknown>)[MARKER] !== 1) return { kind: 'other' };
  const record = auditRecordSchema.safeParse((parsed as { record?: unknown }).record);
  return record.success ? { kind: 'record', record: record.data } : { kind: 'malformed' };
}

/** The cheap test the local delivery applies in place of CloudWatch's filter; the delivery parses what passes. */
export function mayBeAuditLine(line: string): boolean {
  return line.includes(`"${MARKER}":1`);
}

/**
 * Where each request's record goes: to the log stream, or, for a strict vault, to the audit store
 * before the response (failing closed on the store as on the log stream). A strict record is not
 * also logged, so the store holds it once and the delivery never rewrites it.
 */
export class AuditTrail implements AuditSink {
  constructor(
    private readonly log: AuditLog,
    private readonly store: AuditStore,
  ) {}

  write(record: AuditRecord, handling: AuditHandling): Promise<void> {
    return handling.strict ? this.store.put(record) : this.log.append(auditLine(record));
  }
}

const guarded = new WeakSet<Writable>();

/**
 * A log stream on a writable stream (the process's standard output in Lambda and in the local
 * gateway). The write's callback says whether the line reached the stream's file descriptor (pipes
 * and files are written synchronously on Linux), and its error fails the request.
 */
export function streamAuditLog(stream: Writable): AuditLog {
  if (!guarded.has(stream)) {
    // A failed write reaches the callback below as well; without a listener the stream's 'error'
    // event would instead end the process, taking every request in flight with it.
    stream.on('error', () => undefined);
    guarded.add(stream);
  }
  return {
    append: (line) =>
      new Promise<void>((resolve, reject) => {
        try {
          stream.write(line, (error) => (error ? reject(error) : resolve()));
        } catch (error) {
          reject(error);
        }
      }),
  };
}

/**
 * A log stream in a file, owner-only, appended to: for handlers run outside Lambda and outside the
 * local gateway (tests and benchmarks that call them in their own process; dev/stack.ts). Written
 * synchronously, as Node writes standard output to a file or pipe on Linux, so a handler run here
 * waits for its audit line the way it does in Lambda (no thread-pool round trip per request).
 */
export function fileAuditLog(path: string): AuditLog {
  let fd: number | undefined;
  return {
    append: async (line) => {
      try {
        fd ??= openSync(path, 'a', 0o600);
        appendFileSync(fd, line);
      } catch (error) {
        // Opened again on the next request: a directory created later, or a disk with room again, works.
        const failed = fd;
        fd = undefined;
        if (failed !== undefined) {
          try {
            closeSync(failed);
          } catch {
            // Already unusable; the write's own error is the one to report.
          }
        }
        throw error;
      }
    },
  };
}
