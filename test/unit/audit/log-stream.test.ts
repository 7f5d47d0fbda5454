import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditTrail, auditLine, fileAuditLog, mayBeAuditLine, parseAuditLine, streamAuditLog } from '../../../lib/audit/log-stream.ts';
import { auditRecord, MemoryAuditStore } from './records.ts';

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
