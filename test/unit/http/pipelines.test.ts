import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { Forbidden } from '../../../lib/core/errors.ts';
import { dataPlane, managementPlane, operations, routeHandler } from '../../../lib/http/pipelines.ts';
import type { Route } from '../../../lib/http/routes.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import { roleIds } from '../../../lib/access/roles.ts';
import { assignment, context, HOST, principal, request, SUBSCRIPTION, stubServices, vault } from './stubs.ts';

const json = (body: string | undefined) => JSON.parse(body ?? '');

describe('data-plane pipeline', () => {
  it("hands the domain call a typed name and version, the vault address and the family services, and audits the answer's id", async () => {
    const services = stubServices();
    const seen: unknown[] = [];
    const define = operations(
      dataPlane,
      () => services,
      () => ({ family: 'secrets' }),
    );
    const handler = define('GetSecret', {}, async (input) => {
      seen.push({ name: input.name, version: input.version, at: input.at, services: input.services, principal: input.principal });
      return { body: { id: `${input.at.baseUrl}/secrets/${input.name}/v2`, value: 'x' } };
    });
    const response = await handler(request('GET', '/secrets/db/?api-version=7.6'), context());
    expect(response.statusCode).toBe(200);
    expect(seen).toEqual([
      { name: 'db', version: undefined, at: { vault: vault(), baseUrl: `https://${HOST}` }, services: { family: 'secrets' }, principal },
    ]);
    expect(services.records[0]?.id).toBe(`https://${HOST}/secrets/db/v2`);
  });

  it('builds the audit id from the path or the deleted path where the row says so', async () => {
    const services = stubServices();
    const define = operations(
      dataPlane,
      () => services,
      () => ({}),
    );
    const sign = define('Sign', { body: z.object({ alg: z.string(), value: z.string() }) }, async () => ({ body: { kid: 'ignored', value: 'sig' } }));
    await sign(request('POST', '/keys/k/0123456789abcdef0123456789abcdef/sign?api-version=7.6', { body: '{"alg":"ES256","value":"AA"}' }), context());
    await sign(request('POST', '/keys/k//sign?api-version=7.6', { body: '{"alg":"ES256","value":"AA"}' }), context());
    const purge = define('PurgeDeletedKey', {}, async () => ({ status: 204 }));
    expect((await purge(request('DELETE', '/deletedkeys/k?api-version=7.6'), context())).statusCode).toBe(204);
    expect(services.records.map((r) => r.id)).toEqual([
      `https://${HOST}/keys/k/0123456789abcdef0123456789abcdef`,
      `https://${HOST}/keys/k`,
      `https://${HOST}/deletedkeys/k`,
    ]);
  });

  it('names no object in the audit record of a refused request', async () => {
    const services = stubServices();
    const handler = operations(
      dataPlane,
      () => services,
      () => ({}),
    )('BackupSecret', {}, async () => {
      throw new Forbidden('no', 'SecretDisabled');
    });
    expect((await handler(request('POST', '/secrets/db/backup?api-version=7.6'), context())).statusCode).toBe(403);
    expect(services.records[0]?.id).toBeUndefined();
  });

  it('turns a page into {value, nextLink} with a signed token that a next request opens', async () => {
    const services = stubServices();
    const cursors: (string | undefined)[] = [];
    const handler = operations(
      dataPlane,
      () => services,
      () => ({}),
    )('GetSecretVersions', {}, async ({ page }) => {
      cursors.push(page.cursor);
      return { page: { items: [{ id: 'a' }], cursor: page.cursor ? undefined : 'after-a' } };
    });
    const first = json((await handler(request('GET', '/secrets/db/versions?api-version=7.6&maxresults=1'), context())).body);
    expect(first.value).toEqual([{ id: 'a' }]);
    const next = new URL(first.nextLink);
    expect(`${next.origin}${next.pathname}`).toBe(`https://${HOST}/secrets/db/versions`);
    expect(next.searchParams.get('api-version')).toBe('7.6');
    expect(next.searchParams.get('maxresults')).toBe('1');
    const second = json((await handler(request('GET', `${next.pathname}${next.search}`), context())).body);
    expect(second).toEqual({ value: [{ id: 'a' }], nextLink: null });
    expect(cursors).toEqual([undefined, 'after-a']);
  });

  it('authenticates before it looks at the api-version or the body, and checks the api-version before the permission', async () => {
    const services = stubServices({ assignments: [] });
    const handler = operations(
      dataPlane,
      () => services,
      () => ({}),
    )('SetSecret', { body: z.object({ value: z.string() }), bodyRequired: true }, async () => ({ body: {} }));
    const noToken = await handler(request('PUT', '/secrets/db', { headers: { authorization: '' }, body: '{' }), context());
    expect(noToken.statusCode).toBe(401);
    expect(noToken.headers?.['WWW-Authenticate']).toBe('Bearer challenge');
    const noVersion = await handler(request('PUT', '/secrets/db', { body: '{' }), context());
    expect(json(noVersion.body).error.message).toBe("The 'api-version' query parameter is required.");
    const notPermitted = await handler(request('PUT', '/secrets/db?api-version=7.6', { body: '{' }), context());
    expect(notPermitted.statusCode).toBe(403);
  });

  it('checks the body before the name, as the domain did', async () => {
    const handler = operations(
      dataPlane,
      () => stubServices(),
      () => ({}),
    )('SetSecret', { body: z.object({ value: z.string() }), bodyRequired: true }, async () => ({ body: {} }));
    const both = await handler(request('PUT', '/secrets/bad_name?api-version=7.6', { body: '{' }), context());
    expect(json(both.body).error.message).toBe('The request body is not valid JSON.');
    const nameOnly = await handler(request('PUT', '/secrets/bad_name?api-version=7.6', { body: '{"value":"v"}' }), context());
    expect(json(nameOnly.body).error.message).toBe("The secret name 'bad_name' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.");
  });

  it('refuses to put a route of another plane on its pipeline', () => {
    const foreign: Route = { ...routeFor('GetSecrets'), plane: 'management' };
    expect(() =>
      routeHandler(
        dataPlane,
        foreign,
        () => stubServices(),
        () => ({}),
        {},
        async () => ({}),
      ),
    ).toThrow(/management-plane route/);
  });
});

describe('management-plane pipeline', () => {
  const route = routeFor('GetVault');
  const path = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/vault1`;
  const event = (query: string, headers: Record<string, string> = {}, subscription = SUBSCRIPTION) =>
    request('GET', `${path.replace(SUBSCRIPTION, subscription)}${query}`, {
      match: { route, pathParameters: { subscriptionId: subscription, resourceGroupName: 'rg1', vaultName: 'vault1' } },
      headers: { host: 'management.test', ...headers },
    });

  function pipeline(assignments = [assignment(roleIds.keyVaultContributor, `/subscriptions/${SUBSCRIPTION}`)]) {
    const services = stubServices({ assignments });
    const handler = routeHandler(
      managementPlane,
      route,
      () => services,
      () => ({}),
      {},
      async (input) => ({ body: { scope: input.management.scope, tenant: input.management.tenantId } }),
    );
    return { services, handler };
  }

  it("takes the tenant from the subscription, authorizes the Action at the path's scope, and audits into the vault's partition", async () => {
    const { services, handler } = pipeline();
    const response = await handler(event('?api-version=2026-02-01'), context());
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({ scope: path, tenant: 'tenant-1' });
    expect(services.calls.authenticate).toEqual([expect.objectContaining({ tenantId: 'tenant-1', audience: 'management' })]);
    expect(response.headers?.['x-ms-request-id']).toBe(services.records[0]?.requestId);
    expect(Object.keys(response.headers ?? {}).filter((h) => h.startsWith('x-ms-keyvault'))).toEqual([]);
    expect(services.records[0]).toMatchObject({ operationName: 'VaultGet', vault: 'vault1', resultType: 'Success' });
  });

  it('refuses without a role that grants the Action, and for a subscription the deployment does not have', async () => {
    const refused = await pipeline([assignment(roleIds.secretsUser)]).handler(event('?api-version=2026-02-01'), context());
    expect(refused.statusCode).toBe(403);
    expect(json(refused.body).error.code).toBe('AuthorizationFailed');
    const unknown = await pipeline().handler(event('?api-version=2026-02-01', {}, '00000000-0000-0000-0000-0000000000ff'), context());
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown.body).error.code).toBe('SubscriptionNotFound');
  });

  it("answers its provider's api-versions only", async () => {
    const { handler } = pipeline();
    const response = await handler(event('?api-version=7.6'), context());
    expect(response.statusCode).toBe(400);
  });

  it('still answers 401 first', async () => {
    const { handler } = pipeline();
    const response = await handler(event('', { authorization: '' }), context());
    expect(response.statusCode).toBe(401);
  });
});
