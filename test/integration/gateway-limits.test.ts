import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { waitForAuditItems } from '../support/audit.ts';
import { adminSecretCredential, adminToken, localStack, raw } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * The local gateway's limits, over raw TLS so that what Node's client would hide shows: a body over
 * 10 MiB, a header block over 16 KiB and a URL over 8 KiB are answered in Azure's error shape (413,
 * 431, 414) and the connection then ends cleanly (no reset before or after the answer). What the
 * gateway refuses before any handler is audited, in the vault's records when the host names a vault.
 */
const MiB = 1024 * 1024;
const info = localStack();
const dataPort = Number(new URL(info.vaultUrl).port);
const managementPort = Number(new URL(info.managementUrl).port);

interface Exchange {
  status: number;
  headers: Record<string, string>;
  json: any;
  /** How the connection ended after the answer: 'end' for a clean close, 'open' if kept alive, else the socket error's code. */
  ended: string;
}

/**
 * Sends `head` (request line and headers, without the blank line) and then `body` in 64 KiB writes,
 * reads the one answer, and then waits a moment to see whether (and how) the server closes.
 */
function exchange(port: number, head: string, body: Buffer = Buffer.alloc(0)): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost' });
    const received: Buffer[] = [];
    let ended: string | undefined;
    let answer: Omit<Exchange, 'ended'> | undefined;
    const settle = () => {
      if (!answer) return reject(new Error(`no answer (connection ${ended}): ${Buffer.concat(received).toString('utf8').slice(0, 200)}`));
      resolve({ ...answer, ended: ended ?? 'open' });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (answer || split === -1) return;
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const bodyText = text.slice(split + 4);
      if (Buffer.byteLength(bodyText) < Number(headers['content-length'] ?? 0)) return;
      answer = { status: Number(statusLine?.split(' ')[1]), headers, json: bodyText ? JSON.parse(bodyText) : undefined };
      setTimeout(settle, 300);
    });
    socket.on('end', () => {
      ended ??= 'end';
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      ended ??= error.code ?? error.message;
    });
    socket.on('close', () => {
      ended ??= 'close';
      if (!answer) settle();
    });
    socket.once('secureConnect', async () => {
      const write = (data: Buffer | string) =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done();
          if (socket.write(data)) done();
          else socket.once('drain', done);
        });
      await write(`${head}\r\n\r\n`);
      for (let offset = 0; offset < body.length && !socket.destroyed; offset += 64 * 1024) await write(body.subarray(offset, offset + 64 * 1024));
    });
  });
}

const azureError = (code: string) => ({ error: { code, message: expect.any(String) } });

describe('a body over the limit', () => {
  it('is answered 413 in Azure shape after the body, then the connection closes cleanly', async () => {
    const token = await adminToken();
    const body = Buffer.alloc(11 * MiB, 'a');
    const answer = await exchange(
      dataPort,
      [
        'PUT /secrets/too-large?api-version=7.6 HTTP/1.1',
        `Host: localhost:${dataPort}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        'x-ms-client-request-id: corr-413',
      ].join('\r\n'),
      body,
    );
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual(azureError('RequestEntityTooLarge'));
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-ms-client-request-id']).toBe('corr-413');
    expect(answer.ended).toBe('end');
    const [item, ...others] = await waitForAuditItems(answer.headers['x-ms-request-id']!);
    expect(others).toEqual([]);
    expect(item).toMatchObject({
      vault: { S: info.vaultName },
      operationName: { S: 'SecretSet' },
      httpStatusCode: { N: '413' },
      resultType: { S: 'Failure' },
      resultSignature: { S: 'RequestEntityTooLarge' },
      correlationId: { S: 'corr-413' },
    });
    expect(item!.identity).toBeUndefined();
  });

  it('is refused the same when it comes chunked, without a declared length', async () => {
    const chunk = Buffer.alloc(MiB, 'b');
    const chunked = Buffer.concat([
      ...Array.from({ length: 11 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
      Buffer.from('0\r\n\r\n'),
    ]);
    const answer = await exchange(
      dataPort,
      ['PUT /secrets/too-large?api-version=7.6 HTTP/1.1', 'Host: localhost', 'Transfer-Encoding: chunked'].join('\r\n'),
      chunked,
    );
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual(azureError('RequestEntityTooLarge'));
    expect(answer.ended).toBe('end');
  });

  it('under the gateway limit reaches the handler, which refuses over its own 1 MiB', async () => {
    const response = await raw('PUT', '/secrets/handler-limit?api-version=7.6', { body: { value: 'x'.repeat(2 * MiB) } });
    expect(response.status).toBe(413);
    expect(response.json).toEqual(azureError('RequestEntityTooLarge'));
  });
});

describe('headers and URLs over the limit', () => {
  it('a header block over 16 KiB is answered 431 in Azure shape and audited', async () => {
    const answer = await exchange(
      dataPort,
      ['GET /secrets?api-version=7.6 HTTP/1.1', `Host: localhost:${dataPort}`, `x-filler: ${'f'.repeat(20_000)}`].join('\r\n'),
    );
    expect(answer.status).toBe(431);
    expect(answer.json).toEqual(azureError('RequestHeaderFieldsTooLarge'));
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const [item] = await waitForAuditItems(answer.headers['x-ms-request-id']!);
    expect(item).toMatchObject({ vault: { S: info.vaultName }, operationName: { S: 'Unknown' }, httpStatusCode: { N: '431' } });
  });

  it('a header block just under 16 KiB reaches the handler', async () => {
    // Without a token: the handler's 401 shows the request got past the gateway.
    const response = await raw('GET', '/secrets?api-version=7.6', { token: null, headers: { 'x-filler': 'f'.repeat(15_000) } });
    expect(response.status).toBe(401);
    expect(response.json).toEqual(azureError('Unauthorized'));
  });

  it('a header block beyond what the parser takes is answered 431 in Azure shape, and the connection closes cleanly', async () => {
    const answer = await exchange(
      dataPort,
      ['GET /secrets?api-version=7.6 HTTP/1.1', 'Host: localhost', `x-filler: ${'f'.repeat(80_000)}`].join('\r\n'),
    );
    expect(answer.status).toBe(431);
    expect(answer.json).toEqual(azureError('RequestHeaderFieldsTooLarge'));
    expect(answer.headers.connection).toBe('close');
    expect(answer.ended).toBe('end');
    const [item] = await waitForAuditItems(answer.headers['x-ms-request-id']!);
    expect(item).toMatchObject({
      operationName: { S: 'Unknown' },
      httpStatusCode: { N: '431' },
      resultSignature: { S: 'RequestHeaderFieldsTooLarge' },
    });
  });

  it('a URL over 8 KiB is answered 414 in Azure shape', async () => {
    for (const length of [9_000, 40_000]) {
      const answer = await exchange(dataPort, [`GET /secrets/${'u'.repeat(length)}?api-version=7.6 HTTP/1.1`, 'Host: localhost'].join('\r\n'));
      expect(answer.status, String(length)).toBe(414);
      expect(answer.json).toEqual(azureError('RequestUriTooLong'));
      const [item] = await waitForAuditItems(answer.headers['x-ms-request-id']!);
      // The record keeps the start of the URL only.
      expect(item!.requestUri!.S!.length).toBeLessThan(2_200);
    }
  });

  it('a request that is not HTTP is answered 400 in Azure shape', async () => {
    const answer = await exchange(dataPort, 'NOT HTTP AT ALL');
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual(azureError('BadParameter'));
    expect(answer.ended).toBe('end');
  });
});

describe('refusals before any handler', () => {
  it('a bad path encoding is a 400 in Azure shape', async () => {
    for (const path of ['/secrets/%zz', '/secrets/%C3%28']) {
      const response = await raw('GET', `${path}?api-version=7.6`);
      expect(response.status, path).toBe(400);
      expect(response.json).toEqual(azureError('BadParameter'));
    }
  });

  it("are audited in the vault's records, readable through the audit query", async () => {
    const vault = await createLocalVault('probed');
    const probes = [
      { method: 'GET', path: '/no-such-route?api-version=7.6', status: 404, code: 'NotFound', correlation: 'corr-probe-404' },
      { method: 'DELETE', path: '/secrets?api-version=7.6', status: 405, code: 'MethodNotAllowed', correlation: 'corr-probe-405' },
      { method: 'GET', path: '/secrets/%zz?api-version=7.6', status: 400, code: 'BadParameter', correlation: 'corr-probe-400' },
    ];
    for (const probe of probes) {
      const response = await raw(probe.method, probe.path, {
        host: vault.host,
        token: null,
        headers: { 'x-ms-client-request-id': probe.correlation },
      });
      expect(response.status, probe.path).toBe(probe.status);
      expect(response.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    const vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault.name}`;
    const token = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
    const url = new URL(`${vaultId}/auditEvents?api-version=2026-02-01&operationName=Unknown`, info.managementUrl);
    let events: {
      correlationId?: string;
      resultType: string;
      resourceId: string;
      identity?: unknown;
      properties: { httpStatusCode: number; requestUri: string };
    }[] = [];
    for (let attempt = 0; attempt < 80 && events.length < probes.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      events = ((await response.json()) as { value: typeof events }).value;
    }
    for (const probe of probes) {
      const event = events.find((e) => e.correlationId === probe.correlation);
      expect(event, probe.correlation).toMatchObject({ resultType: 'Failure', resourceId: vaultId, properties: { httpStatusCode: probe.status } });
      expect(event!.properties.requestUri).toBe(`https://${vault.host}${probe.path.split('?')[0]}`);
    }
    expect(events).toHaveLength(probes.length);
  });

  it('an unknown route on a host that names no vault is audited about no vault', async () => {
    const response = await raw('GET', '/no-such-route', { host: 'nosuchvault.vault.localhost', token: null });
    expect(response.status).toBe(404);
    const [item] = await waitForAuditItems(response.headers['x-ms-request-id'] as string);
    expect(item).toMatchObject({ vault: { S: '_unresolved' }, operationName: { S: 'Unknown' }, httpStatusCode: { N: '404' } });
  });

  it("an unknown management route is audited in the subscription's records", async () => {
    const response = await fetch(new URL(`/subscriptions/${info.subscriptionId}/no-such-route?api-version=2026-02-01`, info.managementUrl));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(azureError('NotFound'));
    const [item] = await waitForAuditItems(response.headers.get('x-ms-request-id')!);
    expect(item).toMatchObject({
      vault: { S: `subscriptions/${info.subscriptionId.toLowerCase()}` },
      tenantId: { S: info.tenantId },
      httpStatusCode: { N: '404' },
    });
    expect(managementPort).toBeGreaterThan(0);
  });
});
