import { describe, expect, it } from 'vitest';
import { ReplayCache, hashSecret, newClientSecret, verifySecret } from '../../dev/idp/client-auth.ts';

describe('client secrets', () => {
  it('are stored as salted scrypt hashes that verify only the original secret', async () => {
    const secret = newClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
    const [first, second] = await Promise.all([hashSecret(secret), hashSecret(secret)]);
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(first).not.toContain(secret);
    expect(first).not.toBe(second);
    expect(await verifySecret(secret, first)).toBe(true);
    expect(await verifySecret(secret, second)).toBe(true);
    expect(await verifySecret(`${secret}x`, first)).toBe(false);
    expect(await verifySecret(secret, 'plaintext')).toBe(false);
  });
});

describe('ReplayCache', () => {
  it('accepts an assertion id once until it expires', () => {
    const cache = new ReplayCache();
    const now = 1_000_000;
    expect(cache.claim('app:jti-1', now + 600, now)).toBe(true);
    expect(cache.claim('app:jti-1', now + 600, now + 10)).toBe(false);
    expect(cache.claim('app:jti-2', now + 600, now + 10)).toBe(true);
    // Past expiry plus clock skew the assertion itself is refused by exp, so the id may go.
    expect(cache.claim('app:jti-1', now + 2000, now + 1000)).toBe(true);
  });
});
