import { describe, expect, it } from 'vitest';
import { context, vaultFromHost } from '../../../lib/http/middleware/context.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import { HOST, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('context middleware', () => {
  it('gives the request an id, a start time and the vault its Host header names', async () => {
    const services = stubServices();
    const route = routeFor('GetSecrets');
    const before = Date.now();
    const { state } = await runMiddleware([context(route, () => services, vaultFromHost)], request('GET', '/secrets?api-version=7.6'));
    expect(state.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(state.startedAt).toBeGreaterThanOrEqual(before);
    expect(state.route).toBe(route);
    expect(state.vault).toEqual(vault());
    expect(services.calls.resolve).toEqual([HOST]);
  });

  it('lets the plane say where the vault comes from', async () => {
    const other = vault({ name: 'from-path' });
    const { state } = await runMiddleware(
      [
        context(
          routeFor('GetSecrets'),
          () => stubServices(),
          async (_event, _services, state) => {
            state.vault = other;
          },
        ),
      ],
      request('GET', '/secrets'),
    );
    expect(state.vault).toBe(other);
  });

  it("fails with the resolver's error for a host that serves no vault", async () => {
    const event = request('GET', '/secrets', { headers: { host: 'nobody.vault.test' } });
    await expect(runMiddleware([context(routeFor('GetSecrets'), () => stubServices(), vaultFromHost)], event)).rejects.toMatchObject({
      status: 404,
      code: 'VaultNotFound',
    });
  });
});
