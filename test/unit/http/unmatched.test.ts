import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailable } from '../../../lib/core/errors.ts';
import { resolveRoute, unmatchedRequests } from '../../../lib/http/middleware/unmatched.ts';
import type { Event, Result } from '../../../lib/http/request.ts';
import type { Route } from '../../../lib/http/routes.ts';
import { HOST, SUBSCRIPTION, stubServices } from './stubs.ts';

/**
 * The function behind API Gateway's `$default` route: what the route table matches once normalized
 * goes to the operation's function with the path parameters API Gateway would have set; the rest is
 * a 404 or 405 in Azure's shape with an audit record, like every answer.
 */
const MANAGEMENT_HOST = 'management.vault.test';

function defaultRouteEvent(method: string, path: string, host = HOST, query = 'api-version=7.6'): Event {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    queryStringParameters: Object.fromEntries(new URLSearchParams(query)),
    headers: { host, authorization: 'Bearer good-token', 'x-ms-client-request-id': 'client-1' },
    isBase64Encoded: false,
    body: method === 'POST' ? '{"alg":"RS256","value":"AAAA"}' : undefined,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      routeKey: '$default',
      stage: '$default',
      requestId: 'api-request',
      domainName: host,
    },
  } as unknown as Event;
}

function harness(forward?: (route: Route, event: Event) => Promise<Result>) {
  const services = stubServices();
  const forwarded: { route: Route; event: Event }[] = [];
  const handler = unmatchedRequests({
    services: () => services,
    managementHost: () => MANAGEMENT_HOST,
    forward: async (route, event) => {
      forwarded.push({ route, event });
      return forward ? forward(route, event) : { statusCode: 200, body: `{"answered":"${route.operation}"}` };
    },
  });
  return { services, forwarded, call: (event: Event) => handler(event, {} as Context) };
}

describe("the $default route's function", () => {
  it("forwards an SDK's empty-version crypto request (POST /keys/k//sign) to Sign with the latest version", async () => {
    const { call, forwarded } = harness();
    const answer = await call(defaultRouteEvent('POST', '/keys/k1//sign'));
    expect(answer).toEqual({ statusCode: 200, body: '{"answered":"Sign"}' });
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.route.operation).toBe('Sign');
    expect(forwarded[0]!.event.routeKey).toBe('POST /keys/{name}/{version}/sign');
    expect(forwarded[0]!.event.requestContext.routeKey).toBe('POST /keys/{name}/{version}/sign');
    expect(forwarded[0]!.event.pathParameters).toEqual({ name: 'k1', version: '' });
    // The rest of the event is API Gateway's, unchanged: the operation's function reads it as always.
    expect(forwarded[0]!.event.rawPath).toBe('/keys/k1//sign');
    expect(forwarded[0]!.event.body).toBe('{"alg":"RS256","value":"AAAA"}');
  });

  it('forwards non-lowercase paths, as Azure paths are case-insensitive', async () => {
    const { call, forwarded } = harness();
    await call(defaultRouteEvent('GET', '/DeletedSecrets/S1'));
    await call(defaultRouteEvent('GET', '/Keys/k1/Versions'));
    expect(forwarded.map((f) => [f.route.operation, f.event.pathParameters])).toEqual([
      ['GetDeletedSecret', { name: 'S1' }],
      ['GetKeyVersions', { name: 'k1' }],
    ]);
  });

  it('forwards management paths on the management host only, a leading // collapsed', async () => {
    const { call, forwarded } = harness();
    const path = `//subscriptions/${SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments`;
    await call(defaultRouteEvent('GET', path, MANAGEMENT_HOST, 'api-version=2022-04-01'));
    expect(forwarded.map((f) => f.route.operation)).toEqual(['ListRoleAssignments']);
    expect(forwarded[0]!.event.pathParameters).toMatchObject({ subscriptionId: SUBSCRIPTION, resourceGroupName: 'rg1' });
    // A vault host does not serve the management plane.
    const refused = await call(defaultRouteEvent('GET', path));
    expect(refused.statusCode).toBe(404);
    expect(forwarded).toHaveLength(1);
  });

  it('answers a path no route has 404 in Azure shape, audited in the vault the host names', async () => {
    const { call, forwarded, services } = harness();
    const answer = await call(defaultRouteEvent('GET', '/admin/.env'));
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body!)).toEqual({ error: { code: 'NotFound', message: 'The requested resource was not found.' } });
    expect(answer.headers).toMatchObject({ 'x-ms-client-request-id': 'client-1', 'Content-Type': 'application/json; charset=utf-8' });
    expect(forwarded).toEqual([]);
    expect(services.records).toHaveLength(1);
    expect(services.records[0]).toMatchObject({
      vault: 'vault1',
      operationName: 'Unknown',
      httpStatusCode: 404,
      resultType: 'Failure',
      resultSignature: 'NotFound',
      callerIpAddress: '192.0.2.1',
      correlationId: 'client-1',
      requestUri: `https://${HOST}/admin/.env`,
    });
    expect(services.records[0]!.requestId).toBe(answer.headers!['x-ms-request-id']);
  });

  it('answers a method the path does not have 405, audited', async () => {
    const { call, services } = harness();
    const answer = await call(defaultRouteEvent('PATCH', '/secrets'));
    expect(answer.statusCode).toBe(405);
    expect(JSON.parse(answer.body!).error.code).toBe('MethodNotAllowed');
    expect(services.records.map((r) => [r.operationName, r.httpStatusCode])).toEqual([['Unknown', 405]]);
  });

  it('audits a management refusal in the subscription the path names, never a vault', async () => {
    const { call, services } = harness();
    const answer = await call(
      defaultRouteEvent(
        'GET',
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/vault1/secrets`,
        MANAGEMENT_HOST,
        'api-version=2023-07-01',
      ),
    );
    expect(answer.statusCode).toBe(404);
    expect(services.records[0]).toMatchObject({ tenantId: 'tenant-1', resourceId: `/subscriptions/${SUBSCRIPTION}`, httpStatusCode: 404 });
    expect(services.records[0]!.vault).not.toBe('vault1');
  });

  it('answers 503 with Retry-After, audited as the operation, when its function cannot be reached or ends without an answer', async () => {
    const unreachable = harness(async () => {
      throw new ServiceUnavailable('The function service is unavailable; retry the request.');
    });
    const answer = await unreachable.call(defaultRouteEvent('POST', '/keys/k1//sign'));
    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.['Retry-After']).toBeDefined();
    expect(unreachable.services.records.map((r) => [r.operationName, r.httpStatusCode])).toEqual([['KeySign', 503]]);

    const timedOut = harness(async () => ({ errorMessage: 'Task timed out after 10.00 seconds' }) as unknown as Result);
    const cut = await timedOut.call(defaultRouteEvent('POST', '/keys/k1//sign'));
    expect(cut.statusCode).toBe(503);
    expect(JSON.parse(cut.body!).error.code).toBe('ServiceUnavailable');
    expect(timedOut.services.records.map((r) => r.operationName)).toEqual(['KeySign']);
  });
});

describe('resolveRoute, the one matching rule of the local gateway and the $default function', () => {
  it('matches as the route table does and tells a 405 from a 404', () => {
    expect(resolveRoute('POST', '/keys/k//sign').match?.route.operation).toBe('Sign');
    expect(resolveRoute('get', '/SECRETS/s1/').match?.route.operation).toBe('GetSecret');
    expect(resolveRoute('PATCH', '/secrets').refusal?.status).toBe(405);
    expect(resolveRoute('GET', '/nothing/here').refusal?.status).toBe(404);
  });
});
