import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Delivery, Deliverer } from '../../dev/eventbridge/delivery.ts';
import type { ApiDestination, Connection, Rule, Target } from '../../dev/eventbridge/store.ts';
import { ensureLocalCa, issueServerCertificate } from '../../dev/tls.ts';

/**
 * Delivery to API destinations, against receivers on loopback: what is sent (method, URL with path
 * and query parameters, headers, body), which answers are retried, the age limit, and https trusting
 * the local CA only.
 */
let dir: string;
let caPem: string;
let tls: { certPem: string; keyPem: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-eb-delivery-'));
  const ca = await ensureLocalCa(join(dir, 'stack'));
  caPem = await readFile(ca.caFile, 'utf8');
  tls = await issueServerCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(answer: (count: number) => number, secure?: { certPem: string; keyPem: string }) {
  const received: Received[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(answer(received.length)).end();
    });
  };
  const server = secure ? createHttpsServer({ cert: secure.certPem, key: secure.keyPem }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

const rule: Rule = { Name: 'r', Arn: 'arn:aws:events:us-east-1:000000000000:rule/bus/r', EventBusName: 'bus', State: 'ENABLED' };
const event = { version: '0', id: 'e-1', 'detail-type': 't', source: 's', resources: [], detail: { subject: 'db', n: 1 } };

function delivery(endpoint: string, target: Partial<Target> = {}, connection: Partial<Connection['AuthParameters']> = {}, method = 'POST'): Delivery {
  const connectionRecord: Connection = {
    Name: 'c',
    ConnectionArn: 'arn:c',
    AuthorizationType: 'BASIC',
    AuthParameters: { BasicAuthParameters: { Username: 'user', Password: 'pass' }, ...connection },
    CreationTime: 0,
    LastModifiedTime: 0,
  };
  const destination: ApiDestination = {
    Name: 'd',
    ApiDestinationArn: 'arn:d',
    ConnectionArn: 'arn:c',
    InvocationEndpoint: endpoint,
    HttpMethod: method,
    InvocationRateLimitPerSecond: 300,
    CreationTime: 0,
    LastModifiedTime: 0,
  };
  return { event, rule, target: { Id: 't', Arn: 'arn:d', ...target }, destination, connection: connectionRecord };
}

function deliverer(name: string, options: { retryBaseMs?: number; maxRetryDelayMs?: number } = {}) {
  const eventsLog = join(dir, `${name}-events.log`);
  const deadLetterLog = join(dir, `${name}-dead.log`);
  const lines = async (file: string) =>
    ((await readFile(file, 'utf8').catch(() => '')) as string)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return {
    deliverer: new Deliverer({ eventsLog, deadLetterLog, caPem, retryBaseMs: 20, ...options }),
    events: () => lines(eventsLog),
    dead: () => lines(deadLetterLog),
  };
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('API destination delivery', () => {
  it('sends the method, path and query parameters, the headers and the transformed body', async () => {
    const server = await receiver(() => 204);
    const { deliverer: d, events } = deliverer('shape');
    d.deliver(
      delivery(
        `http://127.0.0.1:${server.port}/hooks/*/in/*`,
        {
          InputTransformer: { InputPathsMap: { s: '$.detail.subject' }, InputTemplate: '{"name": <s>}' },
          HttpParameters: { PathParameterValues: ['a b', 'c'], QueryStringParameters: { q: '1' }, HeaderParameters: { 'X-Target': 't' } },
        },
        { InvocationHttpParameters: { QueryStringParameters: [{ Key: 'conn', Value: '2' }], HeaderParameters: [{ Key: 'X-Conn', Value: 'c' }] } },
        'PUT',
      ),
    );
    await until(async () => (await events()).length === 1);
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'PUT', url: '/hooks/a%20b/in/c?conn=2&q=1', body: '{"name": "db"}' });
    expect(request!.headers).toMatchObject({
      authorization: `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'x-target': 't',
      'x-conn': 'c',
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
    });
    expect(await events()).toMatchObject([{ kind: 'delivery', id: 'e-1', rule: 'r', target: 't', attempt: 1, outcome: 'delivered', status: 204 }]);
    await d.close();
    await server.close();
  });

  it('retries 401, 409, 429 and 5xx until one succeeds', async () => {
    const answers = [401, 409, 429, 500, 200];
    const server = await receiver((count) => answers[count - 1]!);
    const { deliverer: d, events, dead } = deliverer('retried');
    d.deliver(delivery(`http://127.0.0.1:${server.port}/`, { RetryPolicy: { MaximumRetryAttempts: 10 } }));
    await until(async () => (await events()).some((line) => line.outcome === 'delivered'));
    expect((await events()).map((line) => [line.attempt, line.outcome, line.status])).toEqual([
      [1, 'retrying', 401],
      [2, 'retrying', 409],
      [3, 'retrying', 429],
      [4, 'retrying', 500],
      [5, 'delivered', 200],
    ]);
    expect(await dead()).toEqual([]);
    await d.close();
    await server.close();
  });

  // The first pause is 100 s jittered by ±25% (75 to 125 s): always past the 60 s the event may age.
  it('gives up when the next retry would come after MaximumEventAgeInSeconds', async () => {
    const server = await receiver(() => 503);
    const { deliverer: d, dead } = deliverer('age', { retryBaseMs: 100_000, maxRetryDelayMs: 200_000 });
    d.deliver(delivery(`http://127.0.0.1:${server.port}/`, { RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 } }));
    await until(async () => (await dead()).length === 1);
    expect((await dead())[0]).toMatchObject({ attributes: { EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds', RETRY_ATTEMPTS: 0 }, event });
    expect(server.received).toHaveLength(1);
    await d.close();
    await server.close();
  });

  it('reaches https receivers whose certificate the local CA issued, and no others', async () => {
    const trusted = await receiver(() => 200, tls);
    const { deliverer: d, events } = deliverer('https');
    d.deliver(delivery(`https://localhost:${trusted.port}/ok`));
    await until(async () => (await events()).length === 1);
    expect((await events())[0]).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(trusted.received).toHaveLength(1);

    const other = await ensureLocalCa(join(dir, 'other'));
    const untrusted = await receiver(() => 200, await issueServerCertificate(other, { dns: ['localhost'], ips: ['127.0.0.1'] }));
    const { deliverer: d2, dead } = deliverer('untrusted');
    d2.deliver(delivery(`https://localhost:${untrusted.port}/`, { RetryPolicy: { MaximumRetryAttempts: 1 } }));
    await until(async () => (await dead()).length === 1);
    expect(untrusted.received).toEqual([]);
    expect((await dead())[0].attributes).toMatchObject({ ERROR_CODE: 'SDK_CLIENT_ERROR', EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts' });
    await Promise.all([d.close(), d2.close(), trusted.close(), untrusted.close()]);
  });

  it('refuses endpoints off loopback and targets that are not API destinations without sending anything', async () => {
    const { deliverer: d, dead } = deliverer('refused');
    d.deliver(delivery('http://10.0.0.1/'));
    d.deliver(delivery('https://example.com/'));
    d.deliver(delivery('ftp://127.0.0.1/'));
    d.deliver({ ...delivery('http://127.0.0.1/'), destination: undefined });
    await until(async () => (await dead()).length === 4);
    expect((await dead()).map((line) => line.attributes.ERROR_CODE).sort()).toEqual([
      'NOT_LOOPBACK',
      'NOT_LOOPBACK',
      'NOT_LOOPBACK',
      'RESOURCE_NOT_FOUND',
    ]);
    await d.close();
  });
});
