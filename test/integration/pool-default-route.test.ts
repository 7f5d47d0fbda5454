import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-event.ts';
import { VAULT_DOMAIN } from '../../dev/local-environment.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { poolAuditPartition } from '../../lib/hsm/pool-host.ts';
import { MANAGED_HSM_SUBDOMAIN } from '../../lib/hsm/pools.ts';
import { managedHsmDataRoutes } from '../../lib/http/routes.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { loggedAuditRecords } from '../support/audit.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * The pools' API's `$default` route (functions/gateway/route-pool-unmatched-requests.ts,
 * infra/pool-stack.ts) end to end on the local stack: API Gateway's `$default` events on a pool's
 * host, its Lambda Invoke answered by a loopback stand-in for Lambda that runs the pool operation's
 * production handler in this process. An odd-case path reaches its pool operation (named in the
 * pools' stack) and is answered by it; a path no pool route has, or a vault's operation the pools'
 * table lacks, is refused 404 in Azure's shape and audited in the pool's partition; another method
 * is a 405.
 */
const info = localStack();
const savedEnv = { ...process.env };
const POOL_STACK = 'coffer-pools-fuzz';
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const pools = managementClients(info).vaults.managedHsms;
const pool = uniqueName('pdr').replace(/-/g, '').slice(0, 24);
const host = `${pool}.${MANAGED_HSM_SUBDOMAIN}.${VAULT_DOMAIN}`;
let lambda: Server;
let token = '';
const invoked: string[] = [];
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode?: number; body?: string; headers?: Record<string, unknown> }>;

beforeAll(async () => {
  await pools.beginCreateOrUpdateAndWait(info.resourceGroup, pool, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  token = (await adminSecretCredential(info).getToken(MHSM_SCOPE))!.token;
  lambda = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const functionName = decodeURIComponent(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '')?.[1] ?? '');
      const route = managedHsmDataRoutes.find((r) => `${POOL_STACK}-${r.operation}` === functionName);
      invoked.push(functionName);
      if (!route || !String(request.headers.authorization).includes('/lambda/aws4_request')) {
        response.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' }).end('{"message":"Function not found"}');
        return;
      }
      // One directory level per variable, as Vite's dynamic imports require.
      const [family, file] = route.handler.split('/');
      const module = (await import(`../../functions/${family}/${file}.ts`)) as { handler: typeof handler };
      const result = await module.handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), lambdaContext(route.operation));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, functionEnvironment(info), {
    COFFER_POOL_STACK: POOL_STACK,
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
  });
  resetConfig();
  resetServices();
  ({ handler } = (await import('../../functions/gateway/route-pool-unmatched-requests.ts')) as { handler: typeof handler });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => lambda?.close(resolve));
  process.env = savedEnv;
  resetConfig();
  resetServices();
  await pools.beginDeleteAndWait(info.resourceGroup, pool).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(pool, LOCATION).catch(() => undefined);
}, 60_000);

async function defaultRoute(method: string, path: string) {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: 'api-version=7.4',
    queryStringParameters: { 'api-version': '7.4' },
    headers: { host, authorization: `Bearer ${token}` },
    isBase64Encoded: false,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      routeKey: '$default',
      stage: '$default',
      requestId: 'pool-default-route-test',
      domainName: host,
    },
  } as unknown as APIGatewayProxyEventV2;
  const answer = await handler(event, lambdaContext('RoutePoolUnmatchedRequests'));
  const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  return { status: answer.statusCode, json: answer.body ? JSON.parse(answer.body) : undefined, headers };
}

describe("the pools' API's $default route on the local stack", () => {
  it("has an odd-case path answered by its pool operation, the pools' stack's function", async () => {
    invoked.length = 0;
    const answer = await defaultRoute('GET', '/Settings');
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json.settings.map((setting: { name: string }) => setting.name)).toContain('AllowKeyManagementOperationsThroughARM');
    expect(invoked).toEqual([`${POOL_STACK}-GetHsmSettings`]);
  });

  it("refuses a path no pool route has, and a vault's operation pools do not offer, 404 in Azure's shape, audited in the pool's partition", async () => {
    invoked.length = 0;
    for (const path of ['/wp-admin/setup.php', '/secrets/s']) {
      const answer = await defaultRoute('GET', path);
      expect(answer.status, path).toBe(404);
      expect(answer.json, path).toEqual({ error: { code: 'NotFound', message: 'The requested resource was not found.' } });
      // In this process the records go to the stack's in-process audit log, as to a function's log stream.
      const [record] = loggedAuditRecords(readFileSync(info.inProcessAuditLog, 'utf8'), answer.headers['x-ms-request-id']!);
      expect(record, path).toMatchObject({ vault: poolAuditPartition(pool), operationName: 'Unknown', resultSignature: 'NotFound' });
    }
    expect(invoked).toEqual([]);
  });

  it('answers 405 for a method the path has no route for', async () => {
    const answer = await defaultRoute('DELETE', '/settings');
    expect(answer.status).toBe(405);
    expect(answer.json.error.code).toBe('MethodNotAllowed');
    expect(invoked).toEqual([]);
  });
});
