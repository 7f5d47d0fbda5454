import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../lib/http/middleware/authenticate.ts';
import { GOOD_TOKEN, principal, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('authenticate middleware', () => {
  it("verifies the Authorization header against the vault's tenant and keeps the principal", async () => {
    const services = stubServices();
    const { state } = await runMiddleware([authenticate(() => services)], request('GET', '/secrets/a'), { vault: vault({ tenantId: 'tenant-1' }) });
    expect(state.principal).toEqual(principal);
    expect(services.calls.authenticate).toEqual([{ header: GOOD_TOKEN, tenantId: 'tenant-1' }]);
  });

  it("refuses a request without a token with the authenticator's 401 and its challenge", async () => {
    const event = request('GET', '/secrets/a', { headers: { authorization: '' } });
    await expect(runMiddleware([authenticate(() => stubServices())], event, { vault: vault() })).rejects.toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer challenge' },
    });
  });
});
