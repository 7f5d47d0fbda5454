import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, functionEnvironment } from '../../dev/stack.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { adminToken, localStack, raw, uniqueName } from '../support/local.ts';

/**
 * Dependency outages, driven through the production handler in this process against the local
 * stack's DynamoDB Local and KMS, with one dependency pointed somewhere broken.
 */
let brokenJwks: Server;
let brokenJwksUrl: string;

beforeAll(async () => {
  brokenJwks = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('identity provider is down');
  });
  await new Promise<void>((r) => brokenJwks.listen(0, '127.0.0.1', () => r()));
  brokenJwksUrl = `http://127.0.0.1:${(brokenJwks.address() as AddressInfo).port}/keys`;
});

afterAll(async () => {
  await new Promise((r) => brokenJwks.close(r));
  resetConfig();
  resetServices();
});

async function configure(overrides: { jwksUri?: string; auditTable?: string }) {
  const info = localStack();
  Object.assign(
    process.env,
    functionEnvironment(info, { jwksUri: overrides.jwksUri }),
    overrides.auditTable ? { COFFER_AUDIT_TABLE: overrides.auditTable } : {},
  );
  resetConfig();
  resetServices();
  const { handler } = await import('../../functions/secrets/get-secret.ts');
  return handler;
}

function event(name: string, token: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /secrets/{name}/{version}',
    rawPath: `/secrets/${name}`,
    rawQueryString: 'api-version=7.6',
    headers: { host: 'localhost', authorization: `Bearer ${token}` },
    queryStringParameters: { 'api-version': '7.6' },
    pathParameters: { name, version: '' },
    requestContext: {
      accountId: '0',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path: `/secrets/${name}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: 'GET /secrets/{name}/{version}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'test' } as unknown as Context;

describe('dependency outages', () => {
  it('serves the secret with every dependency up (the control case)', async () => {
    const name = uniqueName('outage');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'reachable' } });
    const handler = await configure({});
    const result = await handler(event(name, await adminToken()), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!).value).toBe('reachable');
  });

  it('answers 503, not 401, when the identity provider fails', async () => {
    const handler = await configure({ jwksUri: brokenJwksUrl });
    const result = await handler(event('anything', await adminToken()), context);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body!).error.code).toBe('ServiceUnavailable');
    expect(result.headers?.['Retry-After']).toBeDefined();
  });

  it('answers 503 when the identity provider cannot be reached at all', async () => {
    const handler = await configure({ jwksUri: `http://127.0.0.1:${await freePort()}/keys` });
    const result = await handler(event('anything', await adminToken()), context);
    expect(result.statusCode).toBe(503);
  });

  it('withholds the value and answers 503 when the audit record cannot be written', async () => {
    const name = uniqueName('noaudit');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'must-not-leak-unaudited' } });
    const handler = await configure({ auditTable: 'no-such-audit-table' });
    const result = await handler(event(name, await adminToken()), context);
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('must-not-leak-unaudited');
  });
});
