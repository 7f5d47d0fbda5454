import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
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

/** The request the gateway would hand GetSecret for the latest version of `name`. */
function event(name: string, token: string): APIGatewayProxyEventV2 {
  return lambdaEvent({ method: 'GET', url: `/secrets/${name}?api-version=7.6`, headers: { authorization: `Bearer ${token}` } });
}

/** A fresh context per call, as Lambda gives each invocation. */
const context = () => lambdaContext('GetSecret');

describe('dependency outages', () => {
  it('serves the secret with every dependency up (the control case)', async () => {
    const name = uniqueName('outage');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'reachable' } });
    const handler = await configure({});
    const result = await handler(event(name, await adminToken()), context());
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!).value).toBe('reachable');
  });

  it('answers 503, not 401, when the identity provider fails', async () => {
    const handler = await configure({ jwksUri: brokenJwksUrl });
    const result = await handler(event('anything', await adminToken()), context());
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body!).error.code).toBe('ServiceUnavailable');
    expect(result.headers?.['Retry-After']).toBeDefined();
  });

  it('answers 503 when the identity provider cannot be reached at all', async () => {
    const handler = await configure({ jwksUri: `http://127.0.0.1:${await freePort()}/keys` });
    const result = await handler(event('anything', await adminToken()), context());
    expect(result.statusCode).toBe(503);
  });

  it('withholds the value and answers 503 when the audit record cannot be written', async () => {
    const name = uniqueName('noaudit');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'must-not-leak-unaudited' } });
    const handler = await configure({ auditTable: 'no-such-audit-table' });
    const result = await handler(event(name, await adminToken()), context());
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('must-not-leak-unaudited');
  });
});
