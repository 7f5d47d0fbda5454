import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
import { freePort, functionEnvironment } from '../../dev/stack.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { loggedAuditRecords } from '../support/audit.ts';
import { adminToken, localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

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

async function configure(overrides: { jwksUri?: string; auditTable?: string; auditLog?: string }) {
  const info = localStack();
  Object.assign(
    process.env,
    functionEnvironment(info, { jwksUri: overrides.jwksUri }),
    overrides.auditTable ? { COFFER_AUDIT_TABLE: overrides.auditTable } : {},
    overrides.auditLog ? { COFFER_AUDIT_LOG: overrides.auditLog } : {},
  );
  resetConfig();
  resetServices();
  const { handler } = await import('../../functions/secrets/get-secret.ts');
  return handler;
}

/** The request the gateway would hand GetSecret for the latest version of `name`, in the default vault or the one `host` names. */
function event(name: string, token: string, host?: string): APIGatewayProxyEventV2 {
  return lambdaEvent({
    method: 'GET',
    url: `/secrets/${name}?api-version=7.6`,
    headers: { authorization: `Bearer ${token}`, ...(host ? { host } : {}) },
  });
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

  it('answers 503 when the identity provider accepts the connection and never answers', { timeout: 30_000 }, async () => {
    // It holds every request open: the key set's fetch must give up on its own (its 3 s budget).
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const handler = await configure({ jwksUri: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/keys` });
      const result = await handler(event('anything', await adminToken()), context());
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body!).error.code).toBe('ServiceUnavailable');
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  // A strict vault's records are written to the audit table before the response.
  it('withholds the value and answers 503 when the audit record cannot be written', async () => {
    const strict = await createLocalVault('strict', { strictAudit: true });
    const name = uniqueName('noaudit');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'must-not-leak-unaudited' }, host: strict.host });
    const handler = await configure({ auditTable: 'no-such-audit-table' });
    const result = await handler(event(name, await adminToken(), strict.host), context());
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('must-not-leak-unaudited');
  });

  it('makes no change to a strict vault when the audit record cannot be written first', async () => {
    const strict = await createLocalVault('strictw', { strictAudit: true });
    const name = uniqueName('unaudited-write');
    await configure({ auditTable: 'no-such-audit-table' });
    const { handler: setSecret } = await import('../../functions/secrets/set-secret.ts');
    const result = await setSecret(
      lambdaEvent({
        method: 'PUT',
        url: `/secrets/${name}?api-version=7.6`,
        headers: { authorization: `Bearer ${await adminToken()}`, host: strict.host, 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'never-stored' }),
      }),
      lambdaContext('SetSecret'),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBeDefined();
    // Through the running stack, whose audit table is there: the secret was never written.
    const after = await raw('GET', `/secrets/${name}?api-version=7.6`, { host: strict.host });
    expect(after.status).toBe(404);
    expect(after.json.error.code).toBe('SecretNotFound');
  });

  it('withholds the value and answers 503 when the log stream cannot take the audit record', async () => {
    const name = uniqueName('nolog');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'must-not-leak-unlogged' } });
    const handler = await configure({ auditLog: join(process.env.COFFER_TEST_DATA_DIR!, 'no-such-directory', 'audit.log') });
    const result = await handler(event(name, await adminToken()), context());
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body!).error.code).toBe('ServiceUnavailable');
    expect(result.body).not.toContain('must-not-leak-unlogged');
  });

  it('serves a vault without strict audit while the audit table is unavailable: its record is in the log stream', async () => {
    const name = uniqueName('logged');
    await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'served' } });
    const handler = await configure({ auditTable: 'no-such-audit-table' });
    const result = await handler(event(name, await adminToken()), context());
    expect(result.statusCode).toBe(200);
    const requestId = result.headers?.['x-ms-request-id'];
    const log = readFileSync(localStack().inProcessAuditLog, 'utf8');
    const logged = loggedAuditRecords(log, String(requestId));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ requestId, operationName: 'SecretGet', httpStatusCode: 200 });
    const lines = log.split('\n').filter((line) => line.includes(String(requestId)));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('served');
  });
});
