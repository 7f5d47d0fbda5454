import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { type AuditFilter, type AuditPage, AuditQueries, type AuditReader } from '../../../lib/audit/query.ts';
import { BadParameter, VaultError } from '../../../lib/core/errors.ts';
import { openSkipToken, sealSkipToken } from '../../../lib/http/paging.ts';
import type { Vault } from '../../../lib/vaults/vault.ts';
import { auditRecord } from './records.ts';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const RETENTION = 30;
const tokens = { seal: sealSkipToken, open: openSkipToken };

function vaultNamed(name: string, overrides: Partial<Vault> = {}): Vault {
  return { name, tenantId: 't1', subscriptionId: 'sub-1', resourceGroup: 'rg-1', created: 0, ...overrides } as Vault;
}

const vault = vaultNamed('vault1');

/**
 * A reader over records in memory with the store's semantics: the partition's records in the window
 * that match, newest first, `top` at a time; the continuation is the index to go on from.
 */
class MemoryReader implements AuditReader {
  readonly calls: { partition: string; filter: AuditFilter }[] = [];
  constructor(readonly records: AuditRecord[] = []) {}

  async query(partition: string, filter: AuditFilter): Promise<AuditPage> {
    this.calls.push({ partition, filter });
    const matching = this.records
      .filter((r) => r.vault === partition && r.time >= filter.startTime && r.time <= filter.endTime)
      .filter((r) => filter.operationName === undefined || r.operationName === filter.operationName)
      .filter((r) => filter.principalId === undefined || r.identity?.oid === filter.principalId)
      .sort((a, b) => (a.time < b.time ? 1 : -1));
    const from = filter.continuation === undefined ? 0 : Number(filter.continuation);
    const to = from + filter.top;
    return { records: matching.slice(from, to), ...(to < matching.length ? { continuation: String(to) } : {}) };
  }
}

const young = vaultNamed('young', { created: Math.floor((NOW - 3 * DAY) / 1000) });

/** The service over `reader`, with vault1, vault2 and young (created three days before NOW) in their resource group. */
function service(reader: AuditReader, keys: Record<string, Uint8Array> = { vault1: new Uint8Array(32).fill(1) }) {
  const fetched: string[] = [];
  const lookups: string[] = [];
  const vaults = new Map([vault, vaultNamed('vault2'), young].map((v) => [v.name, v]));
  const queries = new AuditQueries(
    reader,
    {
      get: async (subscriptionId, resourceGroup, name) => {
        lookups.push(name);
        const found = vaults.get(name);
        if (!found || subscriptionId !== found.subscriptionId || resourceGroup !== found.resourceGroup)
          throw new VaultError(404, 'ResourceNotFound', `The Resource 'Microsoft.KeyVault/vaults/${name}' was not found.`);
        return found;
      },
    },
    {
      pagingKey: async (v) => {
        fetched.push(v.name);
        return keys[v.name]!;
      },
    },
    tokens,
    RETENTION,
    () => NOW,
  );
  return { queries, fetched, lookups };
}

/** Records of vault1, one an hour back from NOW, alternating between two operations. */
function hourly(count: number): AuditRecord[] {
  return Array.from({ length: count }, (_, i) =>
    auditRecord({ vault: 'vault1', time: new Date(NOW - (i + 1) * 3_600_000).toISOString(), operationName: i % 2 ? 'SecretSet' : 'SecretGet' }),
  );
}

async function refusal(promise: Promise<unknown>): Promise<BadParameter> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BadParameter);
  return error as BadParameter;
}

describe('audit queries', () => {
  it('reads the whole retention up to now, 100 at a time, from the vault’s partition, by default', async () => {
    const reader = new MemoryReader(hourly(3));
    const { queries, fetched } = service(reader);
    const page = await queries.list(vault, { 'api-version': '2026-02-01' });
    expect(reader.calls).toEqual([
      {
        partition: 'vault1',
        filter: { startTime: new Date(NOW - RETENTION * DAY).toISOString(), endTime: new Date(NOW).toISOString(), top: 100, continuation: undefined },
      },
    ]);
    expect(page.records.map((r) => r.time)).toEqual(reader.records.map((r) => r.time));
    expect(page.next).toBeUndefined();
    expect(page.resourceId).toBe('/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.KeyVault/vaults/vault1');
    // Nothing to seal or open: the paging key is not fetched.
    expect(fetched).toEqual([]);
  });

  it('reads ISO 8601 times with any offset, or none (UTC), and dates, as UTC', async () => {
    const reader = new MemoryReader();
    const { queries } = service(reader);
    const cases: [string, string][] = [
      ['2026-06-01T01:30:00+01:00', '2026-06-01T00:30:00.000Z'],
      ['2026-06-01T01:30:00 01:00', '2026-06-01T00:30:00.000Z'],
      ['2026-06-01T00:30:00-0230', '2026-06-01T03:00:00.000Z'],
      ['2026-06-01T00:30', '2026-06-01T00:30:00.000Z'],
      ['2026-06-01T00:30:05.1234567Z', '2026-06-01T00:30:05.123Z'],
      ['2026-06-01', '2026-06-01T00:00:00.000Z'],
    ];
    for (const [startTime] of cases) await queries.list(vault, { startTime, endTime: '2026-06-10T00:00:00Z' });
    expect(reader.calls.map((c) => c.filter.startTime)).toEqual(cases.map(([, utc]) => utc));
    expect(reader.calls.map((c) => c.filter.endTime)).toEqual(cases.map(() => '2026-06-10T00:00:00.000Z'));
  });

  it('refuses a bad time, a start after the end, a page size out of range or an empty filter with a 400 naming the parameter, before any read', async () => {
    const reader = new MemoryReader();
    const { queries, fetched, lookups } = service(reader);
    const bad: [Record<string, string>, string][] = [
      [{ startTime: 'yesterday' }, "'startTime'"],
      [{ startTime: '2026-02-30T00:00:00Z' }, "'startTime'"],
      [{ startTime: '2026-06-01T24:00:00Z' }, "'startTime'"],
      [{ startTime: '2026-06-01T10:00:00+25:00' }, "'startTime'"],
      [{ startTime: '1969-12-31T23:59:59Z' }, "'startTime'"],
      [{ endTime: '2026-13-01' }, "'endTime'"],
      [{ endTime: '' }, "'endTime'"],
      [{ startTime: '2026-06-02T00:00:00Z', endTime: '2026-06-01T00:00:00Z' }, "'startTime' parameter must not be later than 'endTime'"],
      [{ $top: '0' }, "'$top'"],
      [{ $top: '1001' }, "'$top'"],
      [{ $top: '2.5' }, "'$top'"],
      [{ $top: 'ten' }, "'$top'"],
      [{ principalId: '' }, "'principalId'"],
      [{ operationName: 'x'.repeat(2049) }, "'operationName'"],
      [{ objectId: '' }, "'objectId'"],
    ];
    for (const [query, named] of bad) {
      const error = await refusal(queries.list(vault, query));
      expect(error.status).toBe(400);
      expect(error.code).toBe('BadParameter');
      expect(error.message).toContain(named);
    }
    expect(reader.calls).toEqual([]);
    expect(lookups).toEqual([]);
    expect(fetched).toEqual([]);
  });

  it("answers ARM's 404 for a vault that is not in the resource group the path names, reading nothing", async () => {
    const reader = new MemoryReader(hourly(2));
    const { queries, fetched } = service(reader);
    for (const path of [
      { ...vault, resourceGroup: 'rg-2' },
      { ...vault, subscriptionId: 'sub-2' },
      { ...vault, name: 'missing' },
    ]) {
      const error = await queries.list(path, {}).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 404, code: 'ResourceNotFound' });
    }
    expect(reader.calls).toEqual([]);
    expect(fetched).toEqual([]);
  });

  it('accepts $top from 1 to 1000 and a start equal to the end, and passes the filters on', async () => {
    const reader = new MemoryReader();
    const { queries } = service(reader);
    await queries.list(vault, { $top: '1', startTime: '2026-06-01T00:00:00Z', endTime: '2026-06-01T00:00:00Z' });
    await queries.list(vault, { $top: '1000', principalId: 'oid-9', operationName: 'SecretGet', objectId: 'https://vault1.vault.test/secrets/db' });
    expect(reader.calls.map((c) => c.filter.top)).toEqual([1, 1000]);
    // A window of one instant is a window.
    expect(reader.calls[0]!.filter).toMatchObject({ startTime: '2026-06-01T00:00:00.000Z', endTime: '2026-06-01T00:00:00.000Z' });
    expect(reader.calls[1]!.filter).toMatchObject({
      principalId: 'oid-9',
      operationName: 'SecretGet',
      objectId: 'https://vault1.vault.test/secrets/db',
    });
  });

  it('reads nothing older than the retention, from before the vault was created, or after now', async () => {
    const created = young.created * 1000;
    const reader = new MemoryReader();
    const { queries } = service(reader);
    await queries.list(vault, { startTime: '2020-01-01T00:00:00Z', endTime: '2030-01-01T00:00:00Z' });
    await queries.list(young, { startTime: '2020-01-01T00:00:00Z' });
    expect(reader.calls.map((c) => [c.filter.startTime, c.filter.endTime])).toEqual([
      [new Date(NOW - RETENTION * DAY).toISOString(), new Date(NOW).toISOString()],
      [new Date(created).toISOString(), new Date(NOW).toISOString()],
    ]);
    // A window that ends before the vault was created reads nothing at all.
    const before = await queries.list(young, {
      endTime: new Date(created - DAY).toISOString(),
    });
    expect(before.records).toEqual([]);
    expect(before.next).toBeUndefined();
    expect(reader.calls).toHaveLength(2);
  });

  it('pages newest first through signed tokens that keep the first page’s window, to the last page', async () => {
    const reader = new MemoryReader(hourly(5));
    const { queries } = service(reader);
    const seen: string[] = [];
    let query: Record<string, string | undefined> = { 'api-version': '2026-02-01', $top: '2', operationName: 'SecretGet' };
    const links: Record<string, string>[] = [];
    for (let pages = 0; pages < 10; pages++) {
      const page = await queries.list(vault, query);
      seen.push(...page.records.map((r) => r.requestId));
      if (!page.next) break;
      links.push(page.next);
      query = page.next;
    }
    const expected = reader.records.filter((r) => r.operationName === 'SecretGet').map((r) => r.requestId);
    expect(seen).toEqual(expected);
    expect(links).toHaveLength(1);
    expect(links[0]).toEqual({
      'api-version': '2026-02-01',
      startTime: new Date(NOW - RETENTION * DAY).toISOString(),
      endTime: new Date(NOW).toISOString(),
      operationName: 'SecretGet',
      $top: '2',
      $skiptoken: expect.any(String),
    });
    expect(reader.calls[1]!.filter.continuation).toBe('2');
  });

  it('refuses a forged or altered token, one of another vault, and one used with other parameters, with a 400', async () => {
    const records = [...hourly(4), ...hourly(4).map((r) => ({ ...r, vault: 'vault2' }))];
    const reader = new MemoryReader(records);
    const { queries } = service(reader, { vault1: new Uint8Array(32).fill(1), vault2: new Uint8Array(32).fill(2) });
    const first = await queries.list(vault, { $top: '1' });
    const next = first.next!;
    const [body, signature] = next.$skiptoken!.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), c: '0' })).toString('base64url');
    const wrong: Record<string, string>[] = [
      { ...next, $skiptoken: `${forgedBody}.${signature}` },
      { ...next, $skiptoken: `${body}.${signature!.slice(1)}A` },
      { ...next, $skiptoken: 'not-a-token' },
      { ...next, startTime: '2026-06-01T00:00:00Z' },
      { ...next, endTime: '2026-06-14T00:00:00Z' },
      { ...next, operationName: 'SecretGet' },
    ];
    const calls = reader.calls.length;
    for (const query of wrong) expect((await refusal(queries.list(vault, query))).message).toBe("The '$skiptoken' parameter is invalid.");
    // Signed with vault1's key: vault2 does not take it.
    await refusal(queries.list(vaultNamed('vault2'), next));
    expect(reader.calls).toHaveLength(calls);
    // A token of another page size is the same position.
    const bigger = await queries.list(vault, { ...next, $top: '3' });
    expect(bigger.records.map((r) => r.requestId)).toEqual(records.slice(1, 4).map((r) => r.requestId));
  });
});
