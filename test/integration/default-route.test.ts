import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../dev/lambda-event.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { routes } from '../../lib/http/routes.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { adminSecretCredential, adminToken, localStack, uniqueName } from '../support/local.ts';

/**
 * The `$default` route's production handler (functions/gateway/route-unmatched-requests.ts) end to
 * end on the local stack: API Gateway's `$default` events for what no route key matches, its Lambda
 * Invoke (Coffer's own transport, signed) answered by a loopback stand-in for Lambda that runs the
 * operation's production handler in this process, on the stack's DynamoDB Local, KMS and identity
 * provider. An SDK's versionless sign and an odd-case path reach their operations and are answered by
 * them; a path no route has is refused 404 in Azure's shape.
 */
const info = localStack();
const savedEnv = { ...process.env };
const DEPLOYMENT = 'coffer-fuzz';
let lambda: Server;
const invoked: string[] = [];
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode?: number; body?: string; headers?: Record<string, unknown> }>;
let keyName: string;
const vaultHost = () => new URL(info.vaultUrl).host;

beforeAll(async () => {
  keyName = uniqueName('default-route');
  await new KeyClient(info.vaultUrl, adminSecretCredential(info), { disableChallengeResourceVerification: true }).createRsaKey(keyName);
  lambda = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const functionName = decodeURIComponent(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '')?.[1] ?? '');
      const route = routes.find((r) => `${DEPLOYMENT}-${r.operation}` === functionName);
      invoked.push(functionName);
      if (!route || !String(request.headers.authorization).includes('/lambda/aws4_request')) {
        response.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' }).end('{"message":"Function not found"}');
        return;
      }
      const [family, file] = route.handler.split('/');
      const module = (await import(`../../functions/${family}/${file}.ts`)) as { handler: typeof handler };
      const result = await module.handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), lambdaContext(route.operation));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, functionEnvironment(info), {
    COFFER_DEPLOYMENT: DEPLOYMENT,
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
  });
  resetConfig();
  resetServices();
  ({ handler } = (await import('../../functions/gateway/route-unmatched-requests.ts')) as { handler: typeof handler });
});

afterAll(async () => {
  await new Promise((resolve) => lambda?.close(resolve));
  process.env = savedEnv;
  resetConfig();
  resetServices();
});

async function defaultRoute(method: string, path: string, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: 'api-version=7.5',
    queryStringParameters: { 'api-version': '7.5' },
    headers: {
      host: vaultHost(),
      authorization: `Bearer ${await adminToken(info)}`,
      ...(text ? { 'content-type': 'application/json' } : {}),
    },
    body: text,
    isBase64Encoded: false,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      routeKey: '$default',
      stage: '$default',
      requestId: 'default-route-test',
      domainName: vaultHost(),
    },
  } as unknown as APIGatewayProxyEventV2;
  const answer = await handler(event, lambdaContext('RouteUnmatchedRequests'));
  return { status: answer.statusCode, json: answer.body ? JSON.parse(answer.body) : undefined };
}

describe("the $default route's function on the local stack", () => {
  it('has the SDK’s versionless sign (POST /keys/{name}//sign) answered by Sign, with the latest version', async () => {
    invoked.length = 0;
    const digest = createHash('sha256').update('signed through $default').digest('base64url');
    const answer = await defaultRoute('POST', `/keys/${keyName}//sign`, { alg: 'RS256', value: digest });
    expect(answer.status).toBe(200);
    expect(answer.json.kid).toMatch(new RegExp(`/keys/${keyName}/[0-9a-f]{32}$`));
    expect(typeof answer.json.value).toBe('string');
    expect(invoked).toEqual([`${DEPLOYMENT}-Sign`]);
  });

  it('has an odd-case path answered by its operation', async () => {
    invoked.length = 0;
    const answer = await defaultRoute('GET', `/Keys/${keyName}/Versions`);
    expect(answer.status).toBe(200);
    expect(answer.json.value).toHaveLength(1);
    expect(invoked).toEqual([`${DEPLOYMENT}-GetKeyVersions`]);
  });

  it('refuses a path no route has with 404 in Azure’s shape, invoking nothing', async () => {
    invoked.length = 0;
    const answer = await defaultRoute('GET', '/wp-admin/setup.php');
    expect(answer).toEqual({ status: 404, json: { error: { code: 'NotFound', message: 'The requested resource was not found.' } } });
    expect(invoked).toEqual([]);
  });
});
