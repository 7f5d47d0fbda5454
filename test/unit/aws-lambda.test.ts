import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVOKE_TIMING, LambdaClient } from '../../lib/aws/api/lambda.ts';
import { ServiceUnavailable, Throttled } from '../../lib/core/errors.ts';

/**
 * Lambda's Invoke on Coffer's own transport (REST-JSON: the path names the operation), against a
 * loopback server playing Lambda: what goes on the wire, what comes back, and which failures are
 * tried again (only what Lambda refused before running anything).
 */
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let server: Server;
let received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
let answer: (n: number) => { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean };

beforeEach(async () => {
  received = [];
  answer = () => ({ status: 200, body: { statusCode: 200, body: '{}' } });
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status, body, headers, hang } = answer(received.length);
      if (hang) return;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timing?: Partial<typeof INVOKE_TIMING>) =>
  new LambdaClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: () => credentials,
    ...(timing ? { timing } : {}),
  });

describe('Lambda Invoke', () => {
  it("POSTs the payload to the function's invocations path, signed for lambda, and answers what the function returned", async () => {
    answer = () => ({ status: 200, body: { statusCode: 201, headers: { a: 'b' }, body: '{"id":1}' } });
    const event = { rawPath: '/keys/k//sign', pathParameters: { name: 'k', version: '' } };
    const result = await client().invoke('coffer-prod-Sign', event);
    expect(result).toEqual({ statusCode: 201, headers: { a: 'b' }, body: '{"id":1}' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/2015-03-31/functions/coffer-prod-Sign/invocations');
    expect(JSON.parse(request!.body)).toEqual(event);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-amz-target']).toBeUndefined();
    expect(String(request!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, /);
  });

  it('tries again what Lambda throttled before running anything, and answers 429 with Retry-After when it keeps throttling', async () => {
    answer = () => ({ status: 429, body: { message: 'Rate exceeded' }, headers: { 'x-amzn-errortype': 'TooManyRequestsException' } });
    const error = await client({ callBudgetMs: 3_000 })
      .invoke('coffer-prod-Sign', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Throttled);
    expect((error as Throttled).headers?.['Retry-After']).toBeDefined();
    expect(received.length).toBeGreaterThan(1);
  });

  it('does not invoke again a function that did not answer in time: it may have run', async () => {
    answer = () => ({ status: 200, hang: true });
    const error = await client({ attemptTimeoutMs: 200, callBudgetMs: 200 })
      .invoke('coffer-prod-SetSecret', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(received).toHaveLength(1);
  });

  it('waits for an invocation as long as an operation may run, in one attempt', () => {
    expect(INVOKE_TIMING.attemptTimeoutMs).toBeGreaterThan(10_000);
    expect(INVOKE_TIMING.callBudgetMs).toBe(INVOKE_TIMING.attemptTimeoutMs);
  });
});
