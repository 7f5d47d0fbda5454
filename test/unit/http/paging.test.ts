import { describe, expect, it } from 'vitest';
import { paging } from '../../../lib/http/middleware/paging.ts';
import { sealSkipToken } from '../../../lib/http/paging.ts';
import { request, runMiddleware, stubServices, vault } from './stubs.ts';

const KEY = new Uint8Array(32).fill(7);

describe('paging middleware', () => {
  it("takes maxresults and opens the $skiptoken with the vault's paging key, bound to the listing", async () => {
    const token = sealSkipToken(KEY, 'secrets/db/versions', 'cursor-1');
    const event = request('GET', `/secrets/db/versions?api-version=7.6&maxresults=5&$skiptoken=${token}`);
    const { state } = await runMiddleware([paging(() => stubServices())], event, { operation: 'GetSecretVersions', vault: vault() });
    expect(state.paging?.request).toEqual({ limit: 5, cursor: 'cursor-1' });
    expect(state.paging?.listing).toEqual({ path: '/secrets/db/versions', name: 'secrets/db/versions' });
  });

  it('defaults to 25 without a token', async () => {
    const { state } = await runMiddleware([paging(() => stubServices())], request('GET', '/secrets'), { operation: 'GetSecrets', vault: vault() });
    expect(state.paging?.request).toEqual({ limit: 25, cursor: undefined });
  });

  it('refuses a bad maxresults before fetching the paging key, and a token of another listing', async () => {
    const services = stubServices();
    const bad = runMiddleware([paging(() => services)], request('GET', '/secrets?maxresults=26'), { operation: 'GetSecrets', vault: vault() });
    await expect(bad).rejects.toMatchObject({ status: 400, message: "The 'maxresults' parameter must be an integer between 1 and 25." });
    expect(services.calls.pagingKey).toBe(0);
    const foreign = sealSkipToken(KEY, 'keys', 'c');
    const replayed = runMiddleware([paging(() => services)], request('GET', `/secrets?$skiptoken=${foreign}`), {
      operation: 'GetSecrets',
      vault: vault(),
    });
    await expect(replayed).rejects.toMatchObject({ status: 400, message: "The '$skiptoken' parameter is invalid." });
  });

  it('does nothing for a route that is not paged', async () => {
    const services = stubServices();
    const { state } = await runMiddleware([paging(() => services)], request('GET', '/secrets/db?maxresults=x'), {
      operation: 'GetSecret',
      vault: vault(),
    });
    expect(state.paging).toBeUndefined();
    expect(services.calls.pagingKey).toBe(0);
  });
});
