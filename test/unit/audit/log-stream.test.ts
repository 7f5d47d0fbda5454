import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditTrail, auditLine, fileAuditLog, mayBeAuditLine, parseAuditLine, streamAuditLog } from '../../../lib/audit/log-stream.ts';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { auditEventList } from '../../../lib/audit/wire.ts';
import { auditRecord, MemoryAuditStore } from './records.ts';

const VAULT_ID = '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/Group-1/providers/Microsoft.KeyVault/vaults/vault1';

/** The compact record a line holds under `a`. */
function compactOf(line: string): Record<string, unknown> {
  return (JSON.parse(line) as { a: Record<string, unknown> }).a;
}

/** The record read back from the record's line, written as `auditLine` writes it. */
function roundTrip(record: AuditRecord, vaultResourceId?: string) {
  return parseAuditLine(auditLine(record, vaultResourceId).trimEnd());
}

/** The audit API's answer for records of vault1's partition, as lib/audit/query.ts hands them to the wire. */
function onTheWire(records: AuditRecord[]) {
  return auditEventList({ resourceId: VAULT_ID, records }, 'https://management.test/auditEvents').value;
}

describe('an audit line', () => {
  it('is one line that parses back to the record it was made of', () => {
    const record = auditRecord({ clientInfo: 'agent\nwith a line break', correlationId: 'corr-1' });
    const line = auditLine(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(mayBeAuditLine(line)).toBe(true);
    expect(parseAuditLine(line.trimEnd())).toEqual({ kind: 'record', record });
  });

  it('gives back every record exactly, whatever it can leave out', () => {
    for (const record of [
      auditRecord(),
      auditRecord({ tenantId: 'tenant-1' }),
      auditRecord({ tenantId: 'vault-tenant' }),
      auditRecord({ tenantId: undefined }),
      auditRecord({ identity: { upn: 'coffer-scheduler' }, tenantId: 'vault-tenant' }),
      auditRecord({ identity: undefined, tenantId: undefined }),
      auditRecord({ httpStatusCode: 403, resultType: 'Failure', resultSignature: 'Forbidden', resultDescription: 'ForbiddenByRbac' }),
      // Not what the status says: the strict vault's record of an unfinished request (lib/http/middleware/audit-intent.ts).
      auditRecord({ httpStatusCode: 0, resultType: 'Failure', resultSignature: 'Incomplete' }),
      auditRecord({ httpStatusCode: 500, resultType: 'Success' }),
      auditRecord({ resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/vault1', correlationId: 'c-1' }),
    ]) {
      expect(parseAuditLine(auditLine(record).trimEnd())).toEqual({ kind: 'record', record });
    }
  });

  it('writes the time as epoch milliseconds and the URI after its https://, and gives both back exactly', () => {
    const record = auditRecord({ time: '2026-12-02T21:33:42.123Z' });
    const written = compactOf(auditLine(record));
    expect(written.t).toBe(Date.parse('2026-12-02T21:33:42.123Z'));
    expect(written.u).toBe('vault1.vault.test/secrets/db');
    expect(written).not.toHaveProperty('uri');
    expect(roundTrip(record)).toEqual({ kind: 'record', record });
    // A time the epoch milliseconds would not spell the same way, and a URI of another scheme, are written as they are.
    for (const other of [
      auditRecord({ time: '2026-12-02T21:33:42Z' }),
      auditRecord({ time: '2026-12-02T21:33:42.123456Z' }),
      auditRecord({ requestUri: 'http://localhost:8080/secrets/db', id: 'http://localhost:8080/secrets/db/v1' }),
      auditRecord({ requestUri: '', id: undefined }),
    ]) {
      const line = compactOf(auditLine(other));
      expect(line.t === other.time || line.t === Date.parse(other.time)).toBe(true);
      expect(typeof line.t === 'number' ? new Date(line.t).toISOString() : line.t).toBe(other.time);
      expect(roundTrip(other), JSON.stringify(other)).toEqual({ kind: 'record', record: other });
    }
    expect(compactOf(auditLine(auditRecord({ time: '2026-12-02T21:33:42Z' }))).t).toBe('2026-12-02T21:33:42Z');
    expect(compactOf(auditLine(auditRecord({ requestUri: 'http://localhost:8080/x' }))).uri).toBe('http://localhost:8080/x');
  });

  it("writes the object's id relative to the request's URI where it shares its start, and gives it back exactly", () => {
    const uri = 'https://vault1.vault.test/secrets/db';
    const version = '0123456789abcdef0123456789abcdef';
    const cases: { id: string | undefined; requestUri?: string; written: unknown }[] = [
      // GetSecret of the latest version: the id is the URI and the version.
      { id: `${uri}/${version}`, written: [uri.length, `/${version}`] },
      // GetSecret of a version: the id is the URI.
      { id: `${uri}/${version}`, requestUri: `${uri}/${version}`, written: `${uri}/${version}`.length },
      // Sign: the id is the start of the URI.
      { id: `https://vault1.vault.test/keys/k/${version}`, requestUri: `https://vault1.vault.test/keys/k/${version}/sign`, written: 65 },
      // Another collection of the same vault: the host is shared.
      { id: 'https://vault1.vault.test/deletedsecrets/db', written: [26, 'deletedsecrets/db'] },
      // Little or nothing shared: the id as it is, where that is shorter.
      { id: 'https://v.x/a', written: [9, '.x/a'] },
      { id: 'hx', written: 'hx' },
      { id: 'urn:object:1', written: 'urn:object:1' },
      { id: '', written: 0 },
      { id: undefined, written: undefined },
    ];
    for (const { id, requestUri = uri, written } of cases) {
      const record = auditRecord({ id, requestUri });
      expect(compactOf(auditLine(record)).id, id).toEqual(written);
      expect(roundTrip(record), id).toEqual({ kind: 'record', record });
    }
    // Text that parts inside a character (a surrogate pair, each half its own UTF-16 unit) comes back whole.
    for (const [id, requestUri] of [
      ['https://h/secrets/a\u{1F600}/v1', 'https://h/secrets/a\u{1F601}'],
      ['https://h/secrets/a\u{1F600}', 'https://h/secrets/a\u{1F600}/x'],
      ['https://h/a\\"b', 'https://h/a\\"b/c'],
    ] as const) {
      const record = auditRecord({ id, requestUri });
      const line = auditLine(record);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(roundTrip(record), id).toEqual({ kind: 'record', record });
    }
  });

  it('leaves out the signature the status says, and keeps any other', () => {
    for (const [record, written] of [
      [auditRecord(), false],
      [auditRecord({ httpStatusCode: 201, resultSignature: 'Created' }), false],
      [auditRecord({ httpStatusCode: 202, resultSignature: 'Accepted' }), false],
      [auditRecord({ httpStatusCode: 204, resultSignature: 'NoContent' }), false],
      [auditRecord({ httpStatusCode: 304, resultSignature: '304' }), false],
      [auditRecord({ httpStatusCode: 404, resultType: 'Failure', resultSignature: 'SecretNotFound' }), true],
      [auditRecord({ httpStatusCode: 0, resultType: 'Failure', resultSignature: 'Incomplete' }), true],
      [auditRecord({ httpStatusCode: 200, resultSignature: 'Created' }), true],
      [auditRecord({ httpStatusCode: 200, resultSignature: '' }), true],
    ] as const) {
      expect('sig' in compactOf(auditLine(record)), record.resultSignature).toBe(written);
      expect(roundTrip(record), record.resultSignature).toEqual({ kind: 'record', record });
    }
  });

  it("leaves out the resource id of the vault the writer names as the partition's, and the audit API answers the same for it", () => {
    const own = auditRecord({ resourceId: VAULT_ID });
    expect(compactOf(auditLine(own, VAULT_ID))).not.toHaveProperty('res');
    const read = roundTrip(own, VAULT_ID);
    expect(read).toEqual({ kind: 'record', record: { ...own, resourceId: undefined } });
    expect(read.kind === 'record' && onTheWire([read.record])).toEqual(onTheWire([own]));
    // A vault of old, with no resource group, has no resource id to leave out; the query names the vault for it as before.
    const none = auditRecord({ resourceId: undefined });
    expect(roundTrip(none, VAULT_ID)).toEqual({ kind: 'record', record: none });

    // Everything else keeps its resource id, exactly: what a management request's path spelt (other
    // case, another resource group), what lies under the vault, a subscription's or a pool's record,
    // and a record whose writer named no vault, or one that is not its partition's.
    for (const [record, vaultResourceId] of [
      [auditRecord({ resourceId: VAULT_ID.replace('resourceGroups/Group-1', 'resourcegroups/group-1') }), VAULT_ID],
      [auditRecord({ resourceId: VAULT_ID.replace('vaults/vault1', 'vaults/Vault1') }), VAULT_ID],
      [auditRecord({ resourceId: VAULT_ID.replace('Group-1', 'Group-2') }), VAULT_ID],
      [auditRecord({ resourceId: `${VAULT_ID}/accessPolicies/add`, operationName: 'VaultAccessPolicyUpdate' }), VAULT_ID],
      [auditRecord({ vault: 'subscriptions/abc-1', resourceId: '/subscriptions/abc-1', operationName: 'VaultList' }), undefined],
      [auditRecord({ vault: 'subscriptions/abc-1', resourceId: '/subscriptions/abc-1' }), '/subscriptions/abc-1'],
      [
        auditRecord({ vault: 'managedhsms/pool1', resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/pool1' }),
        undefined,
      ],
      [auditRecord({ resourceId: VAULT_ID }), undefined],
      [auditRecord({ vault: 'vault2', resourceId: VAULT_ID }), VAULT_ID],
      [auditRecord({ vault: 'ault1', resourceId: VAULT_ID }), VAULT_ID],
    ] as const) {
      expect(compactOf(auditLine(record, vaultResourceId)).res, record.resourceId).toBe(record.resourceId);
      expect(roundTrip(record, vaultResourceId), record.resourceId).toEqual({ kind: 'record', record });
    }
  });

  it('reads the compact lines written before times, URIs, ids, signatures and resource ids were shortened', () => {
    const record = auditRecord({ resourceId: VAULT_ID, tenantId: 'vault-tenant', correlationId: 'c-1' });
    const line = {
      cofferAudit: 1,
      a: {
        t: record.time,
        v: record.vault,
        tn: record.tenantId,
        res: record.resourceId,
        rq: record.requestId,
        op: record.operationName,
        ver: record.operationVersion,
        sig: record.resultSignature,
        st: record.httpStatusCode,
        ms: record.durationMs,
        ip: record.callerIpAddress,
        cid: record.correlationId,
        who: { oid: 'oid-1', app: 'app-1', tid: 'tenant-1' },
        uri: record.requestUri,
        id: record.id,
        ua: record.clientInfo,
      },
    };
    expect(parseAuditLine(JSON.stringify(line))).toEqual({ kind: 'record', record });
  });

  it('is malformed when a shortened value cannot be read back', () => {
    const good = compactOf(auditLine(auditRecord()));
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, a: good })).kind).toBe('record');
    for (const changed of [
      // The URI named twice, or not as text.
      { uri: 'https://vault1.vault.test/secrets/other' },
      { u: 7 },
      // An id past the URI's end, not a count, or no pair of a count and text.
      { id: 1000 },
      { id: -1 },
      { id: 1.5 },
      { id: [3] },
      { id: [3, 'x', 'y'] },
      { id: [3, 4] },
      { id: ['3', 'x'] },
      { id: { n: 3 } },
      // A time that is no instant a date can hold.
      { t: 1.5 },
      { t: 9e15 },
      { t: true },
    ]) {
      expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, a: { ...good, ...changed } })), JSON.stringify(changed)).toEqual({ kind: 'malformed' });
    }
    // An id relative to a URI the line does not have.
    const { u: _uri, ...withoutUri } = good;
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, a: withoutUri }))).toEqual({ kind: 'malformed' });
  });

  it('is far shorter than the record it holds written out', () => {
    const record = auditRecord({
      tenantId: 'tenant-1',
      resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/vault1',
    });
    const written = Buffer.byteLength(auditLine(record));
    expect(written).toBeLessThan(0.75 * Buffer.byteLength(JSON.stringify({ cofferAudit: 1, record })));
    // None of the field names, the constant category or the tenant written twice.
    expect(auditLine(record)).not.toMatch(/operationName|AuditEvent|"Success"|tenant-1.*tenant-1/);
  });

  it('reads the first form of the line, the record written out under `record`', () => {
    const record = auditRecord({ tenantId: 'tenant-1' });
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, record }))).toEqual({ kind: 'record', record });
  });

  it('leaves the undefined fields out and gets them back undefined', () => {
    const record = auditRecord({ identity: undefined, id: undefined, operationVersion: undefined });
    const parsed = parseAuditLine(auditLine(record));
    expect(parsed.kind).toBe('record');
    expect(parsed.kind === 'record' && parsed.record.identity).toBeUndefined();
  });

  it('is told apart from the other lines a function logs', () => {
    // A Powertools line, a plain text line, JSON that is no object, the marker not at the top level.
    for (const other of [
      JSON.stringify({ level: 'INFO', message: 'request', service: 'coffer', requestId: 'r', status: 200 }),
      'START RequestId: 0c8a Version: $LATEST',
      '[1,2,3]',
      'null',
      JSON.stringify({ message: 'nested', fields: { cofferAudit: 1, record: auditRecord() } }),
      JSON.stringify({ cofferAudit: '1', record: auditRecord() }),
    ]) {
      expect(parseAuditLine(other), other).toEqual({ kind: 'other' });
    }
  });

  it('is malformed when it carries the marker but not a valid record, and keeps nothing of what it carried', () => {
    const { requestId: _dropped, ...withoutId } = auditRecord();
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, record: withoutId }))).toEqual({ kind: 'malformed' });
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, record: { ...auditRecord(), time: 'yesterday' } }))).toEqual({ kind: 'malformed' });
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1 }))).toEqual({ kind: 'malformed' });
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, a: 'text' }))).toEqual({ kind: 'malformed' });
    expect(parseAuditLine(JSON.stringify({ cofferAudit: 1, a: { t: new Date().toISOString(), v: 'vault1', who: 'me' } }))).toEqual({
      kind: 'malformed',
    });
    const compactLine = JSON.parse(auditLine(auditRecord())) as { a: Record<string, unknown> };
    delete compactLine.a.rq;
    expect(parseAuditLine(JSON.stringify(compactLine))).toEqual({ kind: 'malformed' });
  });

  it('keeps only the fields of a record', () => {
    const parsed = parseAuditLine(JSON.stringify({ cofferAudit: 1, record: { ...auditRecord(), value: 'a secret someone put here' } }));
    expect(parsed.kind).toBe('record');
    expect(JSON.stringify(parsed)).not.toContain('a secret someone put here');
    const line = JSON.parse(auditLine(auditRecord())) as { a: Record<string, unknown> };
    const compactParsed = parseAuditLine(JSON.stringify({ ...line, a: { ...line.a, value: 'a secret someone put here' } }));
    expect(compactParsed.kind).toBe('record');
    expect(JSON.stringify(compactParsed)).not.toContain('a secret someone put here');
  });
});

describe('the audit trail', () => {
  it('hands a record to the log stream, or for a strict vault to the audit store, and never to both', async () => {
    const lines: string[] = [];
    const store = new MemoryAuditStore();
    const trail = new AuditTrail({ append: async (line) => void lines.push(line) }, store);
    const logged = auditRecord();
    const strict = auditRecord();
    await trail.write(logged, { strict: false });
    await trail.write(strict, { strict: true });
    expect(lines).toEqual([auditLine(logged)]);
    expect([...store.items.values()]).toEqual([strict]);
  });

  it("writes a logged record's line with what the writer knows of its partition's vault", async () => {
    const lines: string[] = [];
    const trail = new AuditTrail({ append: async (line) => void lines.push(line) }, new MemoryAuditStore());
    const record = auditRecord({ resourceId: VAULT_ID });
    await trail.write(record, { strict: false, vaultResourceId: VAULT_ID });
    expect(lines).toEqual([auditLine(record, VAULT_ID)]);
    expect(compactOf(lines[0]!)).not.toHaveProperty('res');
  });

  it('rejects when the store refuses a strict record', async () => {
    const store = new MemoryAuditStore();
    store.put = async () => {
      throw new Error('audit table unavailable');
    };
    const trail = new AuditTrail({ append: async () => undefined }, store);
    await expect(trail.write(auditRecord(), { strict: true })).rejects.toThrow('audit table unavailable');
  });
});

describe('a log stream on a writable stream (standard output)', () => {
  it('resolves once the line is written', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    await streamAuditLog(stream).append('one line\n');
    expect(chunks).toEqual(['one line\n']);
  });

  it('rejects when the write fails, and the failure does not end the process', async () => {
    const failing = new Writable({
      write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })),
    });
    await expect(streamAuditLog(failing).append('lost\n')).rejects.toThrow('EPIPE');
    // The stream is broken now: a later write fails too, and still only its request.
    await expect(streamAuditLog(failing).append('lost too\n')).rejects.toThrow();
  });

  it('rejects on a stream that was closed', async () => {
    const closed = new PassThrough();
    closed.destroy();
    await expect(streamAuditLog(closed).append('lost\n')).rejects.toThrow();
  });
});

describe('a log stream in a file', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('appends each line, in an owner-only file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-audit-log-'));
    const path = join(dir, 'audit.log');
    const log = fileAuditLog(path);
    await log.append('first\n');
    await Promise.all([log.append('second\n'), log.append('third\n')]);
    expect((await readFile(path, 'utf8')).split('\n').sort()).toEqual(['', 'first', 'second', 'third']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('rejects while the file cannot be written, and works once it can', async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-audit-log-'));
    const path = join(dir, 'not-yet', 'audit.log');
    const log = fileAuditLog(path);
    await expect(log.append('lost\n')).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(join(dir, 'not-yet'));
    await log.append('kept\n');
    expect(await readFile(path, 'utf8')).toBe('kept\n');
  });
});
