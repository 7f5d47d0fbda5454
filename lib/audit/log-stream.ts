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
 * The record under `a` is written compactly (`COMPACT_KEYS`, and `compact` for what it leaves out or
 * writes shorter): CloudWatch Logs bills every byte a request logs, and the record's field names were
 * a third of its line (docs/adr/0018-cost-floor-of-a-read.md; the table of the compact form is in
 * docs/adr/0009-audit-through-the-log-stream.md). Every earlier form is still read, as a delivery
 * may meet it in a log group written before: the first, `{"cofferAudit":1,"record":{...}}` with the
 * record as it is stored, and the compact form before it wrote times, URIs, ids and signatures
 * shorter (each shortened value has a type or a key the earlier form never wrote).
 */
const MARKER = 'cofferAudit';

/** The CloudWatch Logs subscription filter pattern that selects audit lines. */
export const AUDIT_LOG_FILTER_PATTERN = `{ $.${MARKER} = 1 }`;

/**
 * The compact line's key for each record field but `category` (`identity`'s members under
 * `IDENTITY_KEYS`). `requestUri` has a second key, `u`: the URI after its `https://`, which every
 * request's URI starts with.
 */
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

/** `requestUri` written without its scheme, under `u`. */
const HTTPS = 'https://';
const URI_AFTER_HTTPS = 'u';

type Fields = Record<string, unknown>;

/**
 * How a record is to be handled, and what its writer knows that lets the line leave more out: the
 * resource id of the vault the record's partition (`vault`) names, when the writer resolved that
 * vault (lib/http/middleware/respond.ts). A record naming that resource id leaves it out of its
 * line: the delivery stores the record without it, and the audit query, which reads a vault's
 * partition only for records since the vault's creation, answers the vault's resource id for it on
 * the wire (lib/audit/query.ts, wire.ts). Without it, the line keeps the resource id.
 */
export interface LoggedAuditHandling extends AuditHandling {
  vaultResourceId?: string;
}

/** The audit sink the request pipeline writes to (`AuditTrail`), told what the line may leave out. */
export interface LoggedAuditSink extends AuditSink {
  write(record: AuditRecord, handling: LoggedAuditHandling): Promise<void>;
}

/**
 * The compact line leaves out what its reader can tell again: `category` is always AuditEvent;
 * `resultType` follows from the status unless written; `tenantId` is the caller's tenant unless
 * written (`null`: the record has none, though its caller has one); `resultSignature` is what the
 * status says (`SIGNATURES`, else the status's digits) unless written.
 */
function derivedResultType(status: number): AuditRecord['resultType'] {
  return status < 400 ? 'Success' : 'Failure';
}

/**
 * The signatures an answer without an error code carries (lib/http/middleware/respond.ts), as the
 * line's own table, fixed for good: a reader expands an absent `sig` by it, including in lines an
 * older writer wrote, so an entry added or changed would misread them. A record whose signature is
 * not the table's (or the status's digits) has its `sig` written.
 */
const SIGNATURES: Readonly<Record<number, string>> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'NoContent' };

function derivedSignature(status: number): string {
  return SIGNATURES[status] ?? String(status);
}

/** The time as epoch milliseconds when that gives the same text back (the pipeline's times do), else as written. */
function compactTime(time: string): number | string {
  const ms = Date.parse(time);
  return Number.isFinite(ms) && new Date(ms).toISOString() === time ? ms : time;
}

function expandedTime(time: unknown): unknown {
  if (typeof time !== 'number') return time;
  const date = new Date(time);
  return Number.isInteger(time) && Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}

/**
 * The object's id relative to the request's URI, which it mostly shares a long start with (a
 * GetSecret of the latest version: `.../secrets/n` and `.../secrets/n/<version>`; a Sign:
 * `.../keys/n/<version>/sign` and `.../keys/n/<version>`): `n`, the URI's first n characters; or
 * `[n, rest]`, those followed by `rest`; or the id itself, a string, when that is shorter.
 */
function compactId(id: string, uri: string): string | number | [number, string] {
  let shared = 0;
  while (shared < id.length && shared < uri.length && id[shared] === uri[shared]) shared++;
  // Not between the two halves of a surrogate pair: each part stays well-formed text.
  const last = id.charCodeAt(shared - 1);
  if (shared > 0 && shared < id.length && last >= 0xd800 && last <= 0xdbff) shared--;
  if (shared === id.length) return shared;
  // As JSON, `[n,"rest"]` is the digits of n and 5 characters more than rest's escaped text, and the
  // id is the shared start's escaped text, 2 quotes and rest's: which is shorter depends on the start alone.
  const escapedStart = JSON.stringify(id.slice(0, shared)).length - 2;
  return String(shared).length + 3 < escapedStart ? [shared, id.slice(shared)] : id;
}

/** The id `compactId` wrote, or undefined when it is no valid one for this URI. */
function expandedId(id: unknown, uri: unknown): string | undefined {
  if (typeof id === 'string') return id;
  const [shared, rest] = typeof id === 'number' ? [id, ''] : Array.isArray(id) && id.length === 2 ? id : [];
  if (typeof uri !== 'string' || !Number.isInteger(shared) || shared < 0 || shared > uri.length || typeof rest !== 'string') return undefined;
  return uri.slice(0, shared) + rest;
}

/** `from`'s fields renamed by `keys` (field to key), the undefined ones left out. */
function renamed(from: Fields, keys: Record<string, string>): Fields {
  const out: Fields = {};
  for (const field in keys) if (from[field] !== undefined) out[keys[field]!] = from[field];
  return out;
}

/** The reverse of `renamed`: fields from keys, absent (undefined or null) ones left out. */
function named(from: Fields, keys: Record<string, string>): Fields {
  return Object.fromEntries(
    Object.entries(keys).flatMap(([field, key]) => (from[key] === undefined || from[key] === null ? [] : [[field, from[key]]])),
  );
}

const COMPACT_ENTRIES = Object.entries(COMPACT_KEYS) as [keyof typeof COMPACT_KEYS, string][];

/**
 * The record's compact form, built in one pass over its fields: this runs on every request, before
 * the answer leaves, so it makes no intermediate objects and deletes no keys (a deleted key turns an
 * object into a slow dictionary for JSON.stringify).
 */
function compact(record: AuditRecord, vaultResourceId: string | undefined): Fields {
  const status = record.httpStatusCode;
  const tid = record.identity?.tid;
  const out: Fields = {};
  for (const [field, key] of COMPACT_ENTRIES) {
    const value = record[field];
    if (value === undefined) {
      // The caller has a tenant and the record none: said, as absent would read as the caller's.
      if (field === 'tenantId' && tid !== undefined) out[key] = null;
      continue;
    }
    switch (field) {
      case 'time':
        out[key] = compactTime(record.time);
        break;
      case 'tenantId':
        if (value !== tid) out[key] = value;
        break;
      case 'resultType':
        if (value !== derivedResultType(status)) out[key] = value;
        break;
      case 'resultSignature':
        if (value !== derivedSignature(status)) out[key] = value;
        break;
      case 'resourceId':
        // The writer's word that this is the partition's vault is checked against the one thing the
        // line itself can: the resource id names a vault of the partition's name.
        if (value !== vaultResourceId || !vaultResourceId.endsWith(`/vaults/${record.vault}`)) out[key] = value;
        break;
      case 'identity':
        out[key] = renamed(record.identity as Fields, IDENTITY_KEYS);
        break;
      case 'id':
        out[key] = compactId(record.id as string, record.requestUri);
        break;
      case 'requestUri':
        if (record.requestUri.startsWith(HTTPS)) out[URI_AFTER_HTTPS] = record.requestUri.slice(HTTPS.length);
        else out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

/**
 * The record a compact line holds, for the schema to check; undefined when it is no object, names its
 * URI twice, or has an id it cannot read back.
 */
function expanded(line: unknown): unknown {
  if (!line || typeof line !== 'object' || Array.isArray(line)) return undefined;
  const fields = line as Fields;
  const afterHttps = fields[URI_AFTER_HTTPS];
  if (afterHttps !== undefined && fields[COMPACT_KEYS.requestUri] !== undefined) return undefined;
  const record: Fields = { category: 'AuditEvent', ...named(fields, COMPACT_KEYS) };
  if (typeof afterHttps === 'string') record.requestUri = HTTPS + afterHttps;
  else if (afterHttps !== undefined) return undefined;
  record.time = expandedTime(record.time);
  if (record.id !== undefined) {
    const id = expandedId(record.id, record.requestUri);
    if (id === undefined) return undefined;
    record.id = id;
  }
  const who = fields[COMPACT_KEYS.identity];
  if (who && typeof who === 'object' && !Array.isArray(who)) record.identity = named(who as Fields, IDENTITY_KEYS);
  if (typeof record.httpStatusCode === 'number') {
    record.resultType ??= derivedResultType(record.httpStatusCode);
    record.resultSignature ??= derivedSignature(record.httpStatusCode);
  }
  const tid = (record.identity as Fields | undefined)?.tid;
  if (fields[COMPACT_KEYS.tenantId] === undefined && tid !== undefined) record.tenantId = tid;
  return record;
}

/**
 * The record's line. `vaultResourceId`: the resource id of the vault the record's partition names,
 * when the writer resolved that vault (`LoggedAuditHandling`).
 */
export function auditLine(record: AuditRecord, vaultResourceId?: string): string {
  // JSON.stringify escapes line breaks, so a record is always exactly one line.
  return `${JSON.stringify({ [MARKER]: 1, a: compact(record, vaultResourceId) })}\n`;
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
export class AuditTrail implements LoggedAuditSink {
  constructor(
    private readonly log: AuditLog,
    private readonly store: AuditStore,
  ) {}

  write(record: AuditRecord, handling: LoggedAuditHandling): Promise<void> {
    return handling.strict ? this.store.put(record) : this.log.append(auditLine(record, handling.vaultResourceId));
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
