import { appendFileSync, closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { type AuditHandling, type AuditLog, type AuditRecord, type AuditSink, type AuditStore, auditRecordSchema } from './audit.ts';

/**
 * The function's log stream as the audit transport (docs/adr/0009-audit-through-the-log-stream.md).
 * A record is one JSON line, `{"cofferAudit":1,"a":{...}}`, written to the function's standard
 * output before the response leaves; in Lambda, CloudWatch Logs stores it and a subscription filter
 * on the marker hands it to the delivery function, which writes it to the audit store. No log line
 * the functions write otherwise has the marker at its top level (Powertools' lines carry their own
 * fixed keys), so the filter selects records only.
 *
 * The record under `a` is written compactly (`COMPACT_KEYS`): CloudWatch Logs bills every byte a
 * request logs, and the record's field names were a third of its line
 * (docs/adr/0018-cost-floor-of-a-read.md). Lines of the first form, `{"cofferAudit":1,"record":{...}}`,
 * with the record as it is stored, are still read: a delivery may meet them in a log group written
 * before.
 */
const MARKER = 'cofferAudit';

/** The CloudWatch Logs subscription filter pattern that selects audit lines. */
export const AUDIT_LOG_FILTER_PATTERN = `{ $.${MARKER} = 1 }`;

/** The compact line's key for each record field but `category` (`identity`'s members under `IDENTITY_KEYS`). */
const COMPACT_KEYS = {
  time: 't',
  vault: 'v',
  tenantId: 'tn',
  resourceId: 'res',
  requestId: 'rq',
  operationName: 'op',
  operationVersion: 'ver',
  resultType: 'rt',
  resultSignature: 'sig',
  resultDescription: 'desc',
  httpStatusCode: 'st',
  durationMs: 'ms',
  callerIpAddress: 'ip',
  correlationId: 'cid',
  identity: 'who',
  requestUri: 'uri',
  id: 'id',
  clientInfo: 'ua',
} as const satisfies Record<Exclude<keyof AuditRecord, 'category'>, string>;

const IDENTITY_KEYS = { oid: 'oid', appid: 'app', upn: 'upn', tid: 'tid' } as const;

type Fields = Record<string, unknown>;

/**
 * The compact line leaves out what its reader can tell again: `category` is always AuditEvent;
 * `resultType` follows from the status unless written; `tenantId` is the caller's tenant unless
 * written (`null`: the record has none, though its caller has one).
 */
function derivedResultType(status: number): AuditRecord['resultType'] {
  return status < 400 ? 'Success' : 'Failure';
}

/** `from`'s fields renamed by `keys` (field to key), the undefined ones left out. */
function renamed(from: Fields, keys: Record<string, string>): Fields {
  return Object.fromEntries(Object.entries(keys).flatMap(([field, key]) => (from[field] === undefined ? [] : [[key, from[field]]])));
}

/** The reverse of `renamed`: fields from keys, absent (undefined or null) ones left out. */
function named(from: Fields, keys: Record<string, string>): Fields {
  return Object.fromEntries(
    Object.entries(keys).flatMap(([field, key]) => (from[key] === undefined || from[key] === null ? [] : [[field, from[key]]])),
  );
}

function compact(record: AuditRecord): Fields {
  const { category: _always, identity, ...fields } = record;
  const out = renamed(fields, COMPACT_KEYS);
  if (identity) out[COMPACT_KEYS.identity] = renamed(identity, IDENTITY_KEYS);
  if (record.resultType === derivedResultType(record.httpStatusCode)) delete out[COMPACT_KEYS.resultType];
  if (identity?.tid !== undefined) {
    if (record.tenantId === identity.tid) delete out[COMPACT_KEYS.tenantId];
    else if (record.tenantId === undefined) out[COMPACT_KEYS.tenantId] = null;
  }
  return out;
}

/** The record a compact line holds, for the schema to check; undefined when it is no object. */
function expanded(line: unknown): unknown {
  if (!line || typeof line !== 'object' || Array.isArray(line)) return undefined;
  const fields = line as Fields;
  const record: Fields = { category: 'AuditEvent', ...named(fields, COMPACT_KEYS) };
  const who = fields[COMPACT_KEYS.identity];
  if (who && typeof who === 'object' && !Array.isArray(who)) record.identity = named(who as Fields, IDENTITY_KEYS);
  if (record.resultType === undefined && typeof record.httpStatusCode === 'number') record.resultType = derivedResultType(record.httpStatusCode);
  const tid = (record.identity as Fields | undefined)?.tid;
  if (fields[COMPACT_KEYS.tenantId] === undefined && tid !== undefined) record.tenantId = tid;
  return record;
}

export function auditLine(record: AuditRecord): string {
  // JSON.stringify escapes line breaks, so a record is always exactly one line.
  return `${JSON.stringify({ [MARKER]: 1, a: compact(record) })}\n`;
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
  const line = parsed as { a?: unknown; record?: unknown };
  const record = auditRecordSchema.safeParse(line.a === undefined ? line.record : expanded(line.a));
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
