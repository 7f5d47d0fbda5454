import { describe, expect, it } from 'vitest';
import { Unauthorized } from '../../../lib/core/errors.ts';
import { authenticate } from '../../../lib/http/middleware/authenticate.ts';
import { GOOD_TOKEN, principal, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('authenticate middleware', () => {
  it("verifies the Authorization header against the vault's tenant and keeps the principal", async () => {
    const services = stubServices();
    const { state } = await runMiddleware([authenticate(() => services, 'data')], request('GET', '/secrets/a'), {
      vault: vault({ tenantId: 'tenant-1' }),
    });
    expect(state.principal).toEqual(principal);
    expect(services.calls.authenticate).toEqual([{ header: GOOD_TOKEN, tenantId: 'tenant-1', audience: 'data' }]);
  });

  it("verifies a management request against its subscription's tenant and the management audience", async () => {
    const services = stubServices();
    await runMiddleware([authenticate(() => services, 'management')], request('GET', '/subscriptions/x'), { tenantId: 'tenant-7' });
    expect(services.calls.authenticate).toEqual([{ header: GOOD_TOKEN, tenantId: 'tenant-7', audience: 'management' }]);
  });

  it("answers ARM's 401 codes on the management plane", async () => {
    const event = request('GET', '/subscriptions', { headers: { authorization: '' } });
    const error = await runMiddleware([authenticate(() => stubServices(), 'management')], event).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 'AuthenticationFailed' });
    expect((error as { headers: Record<string, string> }).headers['WWW-Authenticate']).toContain('error="invalid_token"');
  });

  it("names a token for another audience with ARM's own code", async () => {
    const services = stubServices();
    services.authenticator = {
      authenticate: async () => {
        throw new Unauthorized('AKV10022: Invalid audience.', { 'WWW-Authenticate': 'Bearer authorization="https://login.test/t"' });
      },
    };
    const error = await runMiddleware([authenticate(() => services, 'management')], request('GET', '/subscriptions')).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 'InvalidAuthenticationTokenAudience' });
  });

  it("refuses a request without a token with the authenticator's 401 and its challenge", async () => {
    const event = request('GET', '/secrets/a', { headers: { authorization: '' } });
    await expect(runMiddleware([authenticate(() => stubServices(), 'data')], event, { vault: vault() })).rejects.toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer challenge' },
    });
  });
});
