import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, type JWTVerifyGetKey, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../../../lib/auth/authenticate.ts';
import type { TrustedIssuer } from '../../../lib/auth/trusted-issuer.ts';
import { Unauthorized } from '../../../lib/core/errors.ts';

const issuerA: TrustedIssuer = {
  tenantId: 'tenant-a',
  issuer: 'https://login.example.test/tenant-a/v2.0',
  jwksUri: 'https://login.example.test/tenant-a/keys',
  audiences: ['https://vault.example.test'],
  authority: 'https://login.example.test/tenant-a',
};
const issuerB: TrustedIssuer = {
  ...issuerA,
  tenantId: 'tenant-b',
  jwksUri: 'https://login.example.test/tenant-b/keys',
  authority: 'https://login.example.test/tenant-b',
};

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** An authenticator on a clock the test moves, counting how often a token's key is looked up (once per signature check). */
function authenticator(issuers: TrustedIssuer[] = [issuerA]) {
  const clock = { now: T0 };
  const lookups = { count: 0 };
  const keySet: JWTVerifyGetKey = (header, token) => {
    lookups.count++;
    return jwks(header, token);
  };
  const auth = new TokenAuthenticator(issuers, 'vault.example.test', 'https://management.example.test', {
    now: () => clock.now,
    keySet: () => keySet,
  });
  return { auth, clock, lookups };
}

function token(claims: Record<string, unknown> = {}, lifetimeSeconds = 3600): Promise<string> {
  const iat = Math.floor(T0 / 1000);
  return new SignJWT({ oid: 'object-1', tid: 'tenant-a', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(issuerA.issuer)
    .setAudience(issuerA.audiences[0]!)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(privateKey);
}

const bearer = (t: string) => `Bearer ${t}`;

async function rejection(promise: Promise<unknown>): Promise<Unauthorized> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Unauthorized);
  return error as Unauthorized;
}

describe('verified token cache', () => {
  it('verifies a token once and answers the same principal for its repeats', async () => {
    const { auth, lookups } = authenticator();
    const t = await token();
    const first = await auth.authenticate(bearer(t), 'tenant-a');
    const second = await auth.authenticate(bearer(t), 'tenant-a');
    expect(second).toEqual(first);
    expect(first.objectId).toBe('object-1');
    expect(lookups.count).toBe(1);
  });

  it('never accepts another string on the strength of a cached one: an altered signature is refused', async () => {
    const { auth } = authenticator();
    const t = await token();
    await auth.authenticate(bearer(t), 'tenant-a');
    const [header, payload, signature] = t.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const error = await rejection(auth.authenticate(bearer(`${header}.${payload}.${flipped}`), 'tenant-a'));
    expect(error.message).toContain('AKV10012');
  });

  it("still refuses a cached token at another tenant's vault", async () => {
    const { auth } = authenticator([issuerA, issuerB]);
    const t = await token();
    await auth.authenticate(bearer(t), 'tenant-a');
    // Issuer B trusts the same keys and issuer name, so only the tenant check can refuse it.
    const error = await rejection(auth.authenticate(bearer(t), 'tenant-b'));
    expect(error.message).toContain('another tenant');
  });

  it('verifies again after the cache lifetime, and refuses a token once it expired', async () => {
    const { auth, clock, lookups } = authenticator();
    const t = await token({}, 600);
    await auth.authenticate(bearer(t), 'tenant-a');
    clock.now = T0 + 5 * 60_000 + 1;
    await auth.authenticate(bearer(t), 'tenant-a');
    expect(lookups.count).toBe(2);
    // Past exp and the clock tolerance: the cached claims are not used, verification refuses it.
    clock.now = T0 + 600_000 + 300_000 + 1_000;
    const error = await rejection(auth.authenticate(bearer(t), 'tenant-a'));
    expect(error.message).toContain('AKV10013');
  });

  it('does not keep a token past its exp even when the cache lifetime is longer', async () => {
    const { auth, clock, lookups } = authenticator();
    const t = await token({}, 60);
    await auth.authenticate(bearer(t), 'tenant-a');
    clock.now = T0 + 61_000;
    // Within the clock tolerance it is still accepted, but by a fresh verification.
    await auth.authenticate(bearer(t), 'tenant-a');
    expect(lookups.count).toBe(2);
  });
});
