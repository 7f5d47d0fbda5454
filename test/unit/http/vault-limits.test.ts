import { describe, expect, it } from 'vitest';
import { Throttled } from '../../../lib/core/errors.ts';
import { limitKind, VAULT_LIMITS, VaultRateLimiter } from '../../../lib/http/middleware/vault-limits.ts';
import { routeFor } from '../../../lib/http/routes.ts';

describe('the documented per-vault limits', () => {
  it("are at most Azure's per 10 s: 10 HSM key creations, 20 software key creations, 300 secret sets and imports, 4,000 other requests", () => {
    expect(VAULT_LIMITS).toEqual({ hsmKeyCreate: 10, keyCreate: 20, secretCreate: 300, transactions: 4_000 });
  });

  it('count each request against its kind', () => {
    expect(limitKind(routeFor('SetSecret'), undefined)).toBe('secretCreate');
    expect(limitKind(routeFor('ImportKey'), undefined)).toBe('secretCreate');
    expect(limitKind(routeFor('ImportCertificate'), undefined)).toBe('secretCreate');
    expect(limitKind(routeFor('CreateKey'), '{"kty":"RSA-HSM"}')).toBe('hsmKeyCreate');
    expect(limitKind(routeFor('CreateKey'), '{"kty":"EC"}')).toBe('keyCreate');
    expect(limitKind(routeFor('RotateKey'), undefined)).toBe('keyCreate');
    expect(limitKind(routeFor('GetSecret'), undefined)).toBe('transactions');
    expect(limitKind(routeFor('Sign'), undefined)).toBe('transactions');
  });

  it('refuse the request past the limit with a 429 whose Retry-After is when the window frees, per vault and kind', () => {
    let now = 1_000_000;
    const limiter = new VaultRateLimiter({ hsmKeyCreate: 1, keyCreate: 2, secretCreate: 3, transactions: 4 }, () => now);
    limiter.take('vault-a', 'keyCreate');
    now += 3_000;
    limiter.take('VAULT-A', 'keyCreate');
    const refused = (() => {
      try {
        limiter.take('vault-a', 'keyCreate');
      } catch (error) {
        return error;
      }
    })() as Throttled;
    expect(refused).toBeInstanceOf(Throttled);
    expect(refused.status).toBe(429);
    expect(refused.toBody().error.code).toBe('Throttled');
    // The first creation leaves the window 10 s after it was made: 7 s from now.
    expect(refused.headers).toEqual({ 'Retry-After': '7' });
    // Other vaults and other kinds are counted on their own.
    limiter.take('vault-b', 'keyCreate');
    limiter.take('vault-a', 'transactions');
    // A refused request is not counted: once the first leaves the window, one more fits.
    now += 7_001;
    limiter.take('vault-a', 'keyCreate');
    expect(() => limiter.take('vault-a', 'keyCreate')).toThrow(Throttled);
  });
});
