import { createHash } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';
import { type Vault, vaultResourceId } from '../vaults/vault.ts';
import type { AuditRecord } from './audit.ts';

/**
 * Reading a vault's audit records (`GET {vault resource id}/auditEvents`): the query's parameters
 * checked and resolved, the store asked for one page, and its continuation handed out as a signed
 * `$skiptoken` bound to the vault and to the query, so a token cannot be forged, altered, or used
 * with another vault or other parameters.
 */

/**
 * What a query reads, in the store's terms, checked and resolved: records with
 * `startTime <= time <= endTime` (ISO 8601 in UTC, as records carry them), newest first.
 */
export interface AuditFilter {
  startTime: string;
  endTime: string;
  /** The caller's object id (`identity.oid`). */
  principalId?: string;
  operationName?: string;
  /** The object the record names (`id`): that id, or any id under it (a secret's filter finds its versions' records). */
  objectId?: string;
  /** At most this many records. */
  top: number;
  /** Where the previous page of the same query stopped, as the store answered it. */
  continuation?: string;
}

/**
 * A page of records, newest first. The store bounds its work per call, so a page may hold fewer than
 * `top` records (even none) and still have a continuation; without one, nothing more matches.
 */
export interface AuditPage {
  records: AuditRecord[];
  continuation?: string;
}

/** The audit store's reads; lib/aws/dynamo-audit.ts implements it. */
export interface AuditReader {
  /** The partition's (lib/audit/audit.ts `auditPartition`) records that match the filter. */
  query(partition: string, filter: AuditFilter): Promise<AuditPage>;
}

/**
 * Sealing and opening `$skiptoken`s with a vault's paging key: the data plane's (lib/http/paging.ts),
 * injected by the composition root, as a domain does not import the transport.
 */
export interface SkipTokens {
  seal(key: Uint8Array, listing: string, cursor: string): string;
  open(key: Uint8Array, listing: string, token: string): string;
}

/** The vault's paging key; lib/vaults/directory.ts implements it. */
export interface PagingKeys {
  pagingKey(vault: Vault): Promise<Uint8Array>;
}

/** The live vault a resource id names, or ARM's 404; lib/vaults/manage.ts implements it. */
export interface VaultLookup {
  get(subscriptionId: string, resourceGroup: string, name: string): Promise<Vault>;
}

/** Where a vault is, as its resource id says. */
export interface VaultPath {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** One page of the answer: its records and, when more may follow, the query parameters of the next page's link. */
export interface AuditEventsPage {
  /**
   * The vault's resource id, for records that do not carry their own: written before records had one,
   * or delivered from an audit line that left out the vault's own (lib/audit/log-stream.ts
   * `LoggedAuditHandling`). Exact for those only because the query reads the vault's partition from
   * the vault's creation on, so an earlier vault of the same name lends it none of its records (but
   * in one race: docs/adr/0009-audit-through-the-log-stream.md, "The vault's own resource id").
   */
  resourceId: string;
  records: AuditRecord[];
  next?: Record<string, string>;
}

const DEFAULT_TOP = 100;
const MAX_TOP = 1000;
const DAY_MS = 86_400_000;
/** Longer than any object id or principal id; a filter value longer than this is a mistake, not a query. */
const MAX_FILTER_LENGTH = 2048;

export class AuditQueries {
  constructor(
    private readonly store: AuditReader,
    private readonly vaults: VaultLookup,
    private readonly keys: PagingKeys,
    private readonly tokens: SkipTokens,
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One page of the vault's records for the query parameters (`startTime`, `endTime`, `principalId`,
   * `operationName`, `objectId`, `$top`, `$skiptoken`). Every parameter is checked before the vault
   * is read and its paging key fetched, so a bad one costs no read and no KMS call.
   */
  async list(path: VaultPath, query: Record<string, string | undefined>): Promise<AuditEventsPage> {
    const now = this.now();
    const asked = parseQuery(query, now, this.retentionDays);
    const vault = await this.vaults.get(path.subscriptionId, path.resourceGroup, path.name);
    const listing = listingOf(vault.name, asked);
    let key: Uint8Array | undefined;
    const pagingKey = async () => {
      key ??= await this.keys.pagingKey(vault);
      return key;
    };
    const token = query.$skiptoken;
    const continuation = token === undefined ? undefined : this.tokens.open(await pagingKey(), listing, token);
    // Records older than the retention have expired even where DynamoDB has not removed them yet; records
    // before the vault was created belong to an earlier vault of the same name.
    const startTime = iso(Math.max(Date.parse(asked.startTime), now - this.retentionDays * DAY_MS, vault.created * 1000));
    const endTime = iso(Math.min(Date.parse(asked.endTime), now));
    const resourceId = vaultResourceId(vault);
    if (startTime > endTime) return { resourceId, records: [] };
    const page = await this.store.query(vault.name, { ...asked.filters, startTime, endTime, top: asked.top, continuation });
    if (page.continuation === undefined) return { resourceId, records: page.records };
    const next: Record<string, string> = {
      ...(query['api-version'] === undefined ? {} : { 'api-version': query['api-version'] }),
      // The resolved times, so every page reads the window the first one did, not one that moved with the clock.
      startTime: asked.startTime,
      endTime: asked.endTime,
      ...asked.filters,
      $top: String(asked.top),
      $skiptoken: this.tokens.seal(await pagingKey(), listing, page.continuation),
    };
    return { resourceId, records: page.records, next };
  }
}

interface ParsedQuery {
  startTime: string;
  endTime: string;
  filters: Pick<AuditFilter, 'principalId' | 'operationName' | 'objectId'>;
  top: number;
}

function parseQuery(query: Record<string, string | undefined>, now: number, retentionDays: number): ParsedQuery {
  const end = query.endTime === undefined ? now : parseTime('endTime', query.endTime);
  const start = query.startTime === undefined ? end - retentionDays * DAY_MS : parseTime('startTime', query.startTime);
  if (start > end) throw new BadParameter("The 'startTime' parameter must not be later than 'endTime'.");
  const filters: ParsedQuery['filters'] = {};
  for (const name of ['principalId', 'operationName', 'objectId'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (value === '' || value.length > MAX_FILTER_LENGTH)
      throw new BadParameter(`The '${name}' parameter must be between 1 and ${MAX_FILTER_LENGTH} characters long.`);
    filters[name] = value;
  }
  return { startTime: iso(start), endTime: iso(end), filters, top: parseTop(query.$top) };
}

function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TOP;
  const value = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TOP)) throw new BadParameter(`The '$top' parameter must be an integer between 1 and ${MAX_TOP}.`);
  return value;
}

/**
 * ISO 8601: a date, or a date and time with optional seconds, fraction and offset; without an offset
 * the time is UTC, as ARM reads it. A space stands for `+` in the offset: an unencoded `+` in a query
 * string arrives as one.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+\- ]\d{2}:?\d{2})?)?$/i;

/** Milliseconds since the epoch, or a 400 naming the parameter. */
function parseTime(name: string, raw: string): number {
  const invalid = () => new BadParameter(`The '${name}' parameter must be a date and time in ISO 8601 format, such as 2026-01-31T00:00:00Z.`);
  const match = ISO_8601.exec(raw);
  if (!match) throw invalid();
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const local = Date.UTC(...fields, Number(fraction.padEnd(3, '0').slice(0, 3)));
  const back = new Date(local);
  // Date.UTC rolls 2026-02-30 over into March and hour 24 into the next day: such a date is not one.
  const real = [back.getUTCFullYear(), back.getUTCMonth(), back.getUTCDate(), back.getUTCHours(), back.getUTCMinutes(), back.getUTCSeconds()];
  if (real.some((value, i) => value !== fields[i])) throw invalid();
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
    if (hours > 23 || minutes > 59) throw invalid();
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const time = local - offsetMinutes * 60_000;
  // Records carry four-digit years; a time outside them would not compare as one.
  if (time < 0 || time >= Date.UTC(10_000, 0, 1)) throw invalid();
  return time;
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

/** What a token is bound to: the vault and every parameter but the page size, digested so the token stays short. */
function listingOf(vault: string, query: ParsedQuery): string {
  const { principalId, operationName, objectId } = query.filters;
  const canonical = JSON.stringify([vault, query.startTime, query.endTime, principalId ?? null, operationName ?? null, objectId ?? null]);
  return `auditevents/${createHash('sha256').update(canonical).digest('hex')}`;
}
