import { BadParameter } from '../core/errors.ts';
import type { AuditRecord } from './audit.ts';
import { AFTER_ANY_ID, auditRecordKey, MAX_PACK_SPAN_MS, newestFirst } from './packs.ts';
import type { AuditFilter, AuditPage } from './query.ts';

/**
 * A query over packed records (lib/audit/packs.ts, docs/adr/0026-packed-audit-records.md): the
 * partition's records in the window that match the filter, newest first, each once, `top` at a time.
 *
 * Packs of different log streams overlap in time, so the records are merged: the store hands out a
 * day's packs by their key (their newest record's time) newest first; a record read is held until no
 * pack still unread can hold a newer one (every unread pack's newest record is at most as new as the
 * next pack's key), then answered. A record in two packs (a batch delivered again and cut differently)
 * is answered once: records are de-duplicated by their own key (time and request id). A pack's oldest
 * record is at most `MAX_PACK_SPAN_MS` older than its newest, so the packs that may hold a record of
 * the window are those keyed from the window's start to its end plus that span.
 *
 * The continuation is a record key: the page's last record's, or, where the call's bound on requests
 * ended it, the time above which every record was answered (`<time>#\uffff`); the next page holds the
 * records strictly below it. It may also be a day (`YYYY-MM-DD`): the walk goes on with that day's
 * partition. Both forms are what the store answered before records were packed, with the same meaning.
 */

/** A stored pack as the reader sees it: its key, and its records (a lone record's item is a pack of one). */
export interface StoredPack {
  sk: string;
  records: AuditRecord[];
}

/** One request to the store for one day partition's packs. */
export interface PackRead {
  /** `YYYY-MM-DD`. */
  day: string;
  /** The keys read: `low <= sk <= high`, highest first. */
  low: string;
  high: string;
  /** Packs whose oldest record is newer than this time may be left out: they hold nothing wanted. */
  notAfter: string;
  /** The key the previous request of the same day stopped at (exclusive); none: from `high`. */
  after?: string;
  /** Packs to read at most. */
  limit: number;
}

export interface PackSource {
  /** The packs of `read`, and when more may follow, the last key the request read (`last`). */
  read(read: PackRead): Promise<{ packs: StoredPack[]; last?: string }>;
}

/**
 * Requests one call makes before it ends its page: a query over a sparse year walks up to 366 day
 * partitions, and a request must not. Past it, a call goes on only until its page moves the position
 * on (it re-reads the span above a continuation's position first).
 */
const QUERIES_PER_PAGE = 32;

/** Packs a request reads at least: a page of few records may need many packs when filters are selective. */
const MIN_READ = 100;

/** Where the walk is: the day partition, and the key every record still to answer is below. */
interface Position {
  day: string;
  below: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function queryPacks(source: PackSource, filter: AuditFilter, maxQueries = QUERIES_PER_PAGE): Promise<AuditPage> {
  const firstDay = filter.startTime.slice(0, 10);
  let position = filter.continuation === undefined ? positionAt(`${filter.endTime}${AFTER_ANY_ID}`) : positionOf(filter.continuation);
  // Records past the window's end are not answered, even under a continuation of another window.
  if (position.below > `${filter.endTime}${AFTER_ANY_ID}`) position = positionAt(`${filter.endTime}${AFTER_ANY_ID}`);
  const records: AuditRecord[] = [];
  let queries = 0;
  for (;;) {
    // A start later than before (the retention window moved on since the last page) may pass the position: nothing is left.
    if (position.day < firstDay || position.below < filter.startTime) return { records };
    const held = new Map<string, AuditRecord>();
    /** Answers the held records above `threshold`, newest first, until the page is full. */
    const answer = (threshold: string): void => {
      const ready = [...held.keys()].filter((key) => key > threshold).sort(newestFirst);
      for (const key of ready.slice(0, filter.top - records.length)) {
        records.push(held.get(key)!);
        held.delete(key);
      }
    };
    const full = () => records.length === filter.top;
    const continued = (): AuditPage => ({ records, continuation: auditRecordKey(records[records.length - 1]!) });
    const started = position.below;
    let after: string | undefined;
    for (;;) {
      const { packs, last } = await source.read({
        day: position.day,
        low: filter.startTime,
        high: highestKey(position.below),
        notAfter: timeOf(position.below),
        ...(after === undefined ? {} : { after }),
        limit: Math.max(filter.top - records.length + 1, MIN_READ),
      });
      queries++;
      for (const pack of packs) {
        // No pack after this one holds a record newer than this pack's key.
        answer(`${timeOf(pack.sk)}${AFTER_ANY_ID}`);
        if (full()) return continued();
        for (const record of pack.records) {
          const key = auditRecordKey(record);
          if (key < position.below && record.time >= filter.startTime && matches(record, filter)) held.set(key, record);
        }
      }
      if (last === undefined) break;
      const boundary = `${timeOf(last)}${AFTER_ANY_ID}`;
      answer(boundary);
      if (full()) return continued();
      after = last;
      // Out of requests: every record above the boundary is answered; the next page reads below it.
      // Not before the page moved below where it started, or the next page would begin where this one did.
      if (queries >= maxQueries && boundary < started) return boundary < filter.startTime ? { records } : { records, continuation: boundary };
    }
    answer('');
    const day = previousDay(position.day);
    // The day's records that did not fit are below the page's last record.
    if (held.size > 0) return continued();
    if (day < firstDay) return { records };
    if (full() || queries >= maxQueries) return { records, continuation: day };
    position = { day, below: `${day}T\uffff` };
  }
}

/** A key as a position: its day, and the key itself as the bound. */
function positionAt(key: string): Position {
  return { day: key.slice(0, 10), below: key };
}

/** A continuation this reader answered: a day (10 characters), or a key, which starts with its day. */
function positionOf(continuation: string): Position {
  const day = continuation.slice(0, 10);
  // Tokens are signed (lib/audit/query.ts), so only a token of an older release can fail here.
  if (!DAY.test(day) || (continuation.length > 10 && continuation[10] !== 'T')) throw new BadParameter("The '$skiptoken' parameter is invalid.");
  if (continuation.length === 10) return { day, below: `${day}T\uffff` };
  if (Number.isNaN(Date.parse(timeOf(continuation)))) throw new BadParameter("The '$skiptoken' parameter is invalid.");
  return positionAt(continuation);
}

/** The time a key starts with; a day's end (`YYYY-MM-DDT\uffff`) is its own. */
function timeOf(key: string): string {
  const hash = key.indexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

/** The highest pack key that may hold a record below `below`: its newest record is at most the span later. */
function highestKey(below: string): string {
  const time = timeOf(below);
  if (time === below) return below;
  return `${new Date(Date.parse(time) + MAX_PACK_SPAN_MS).toISOString()}${AFTER_ANY_ID}`;
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** The optional filters: the caller's object id, the operation, the object itself or anything under it. */
function matches(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.principalId !== undefined && record.identity?.oid !== filter.principalId) return false;
  if (filter.operationName !== undefined && record.operationName !== filter.operationName) return false;
  if (filter.objectId !== undefined) {
    // A secret's filter finds the records of each of its versions, and not a sibling's whose name it begins.
    const prefix = filter.objectId.endsWith('/') ? filter.objectId : `${filter.objectId}/`;
    if (record.id === undefined || (record.id !== filter.objectId && !record.id.startsWith(prefix))) return false;
  }
  return true;
}
