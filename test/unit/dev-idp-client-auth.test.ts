import { type KeyObject, X509Certificate, createHash, createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReplayCache, certificateThumbprints, hashSecret, newClientSecret, verifyClientAssertion, verifySecret } from '../../dev/idp/client-auth.ts';
import { EntraError } from '../../dev/idp/errors.ts';
import type { ServicePrincipalRecord } from '../../dev/idp/registry.ts';
import { createClientAuthCertificate } from '../../dev/tls.ts';

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

describe('client assertions', () => {
  const audience = 'https://login.coffer.test/tenant/oauth2/v2.0/token';
  let principal: ServicePrincipalRecord;
  let privateKey: KeyObject;
  let sha1: Buffer;
  let sha256: Buffer;

  beforeAll(async () => {
    const { certPem, keyPem } = await createClientAuthCertificate('assertion-test');
    const clientId = randomUUID();
    principal = {
      tenantId: randomUUID(),
      clientId,
      objectId: randomUUID(),
      displayName: 'assertion-test',
      createdAt: new Date().toISOString(),
      secrets: [],
      certificates: [{ keyId: randomUUID(), certificatePem: certPem, ...certificateThumbprints(certPem) }],
    };
    privateKey = createPrivateKey(keyPem);
    const der = new X509Certificate(certPem).raw;
    sha1 = createHash('sha1').update(der).digest();
    sha256 = createHash('sha256').update(der).digest();
  });

  const assertion = (alg: 'RS256' | 'PS256', thumbprints: Record<string, string>) =>
    new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg, typ: 'JWT', ...thumbprints })
      .setIssuer(principal.clientId)
      .setSubject(principal.clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('10m')
      .sign(privateKey);

  const verify = async (alg: 'RS256' | 'PS256', thumbprints: Record<string, string>) =>
    verifyClientAssertion(await assertion(alg, thumbprints), principal, [audience], new ReplayCache());

  it('accepts x5t without padding, as @azure/identity sends it', async () => {
    const x5t = sha1.toString('base64url');
    expect(x5t).not.toContain('=');
    await expect(verify('RS256', { x5t })).resolves.toBeUndefined();
  });

  it('accepts x5t with base64 padding, as MSAL for Python sends it', async () => {
    // base64.urlsafe_b64encode of a 20-byte SHA-1 ends in one '='.
    const x5t = sha1.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
    expect(x5t).toMatch(/^[A-Za-z0-9_-]{27}=$/);
    await expect(verify('RS256', { x5t })).resolves.toBeUndefined();
  });

  it('accepts x5t#S256, padded or not', async () => {
    await expect(verify('PS256', { 'x5t#S256': sha256.toString('base64url') })).resolves.toBeUndefined();
    const padded = `${sha256.toString('base64url')}=`;
    expect(padded).toHaveLength(44);
    await expect(verify('PS256', { 'x5t#S256': padded })).resolves.toBeUndefined();
  });

  it('refuses a thumbprint of another certificate and names it in hex', async () => {
    const other = createHash('sha1').update('another certificate').digest();
    const refusal = verify('RS256', { x5t: other.toString('base64url') });
    await expect(refusal).rejects.toBeInstanceOf(EntraError);
    await expect(refusal).rejects.toMatchObject({ status: 401, error: 'invalid_client', code: 700027 });
    await expect(refusal).rejects.toThrow(`Thumbprint of key used by client: '${other.toString('hex').toUpperCase()}'`);
  });

  it('refuses an x5t#S256 that does not match even when x5t does', async () => {
    const wrongS256 = createHash('sha256').update('another certificate').digest('base64url');
    await expect(verify('PS256', { x5t: sha1.toString('base64url'), 'x5t#S256': wrongS256 })).rejects.toMatchObject({ code: 700027 });
  });

  it('refuses thumbprints that are not base64url of a digest of the right length', async () => {
    const good = sha1.toString('base64url');
    for (const x5t of [
      good.slice(0, 20), // a digest cut short
      `${good}AAAA`, // too long
      `${good.slice(0, 10)}!${good.slice(11)}`, // outside the alphabet: Node's decoder alone would skip it
      `${good}===`, // more padding than base64 has
      sha1.toString('hex'), // the portal's hex form is not a header value
      sha256.toString('base64url'), // a SHA-256 in the SHA-1 header
    ]) {
      await expect(verify('RS256', { x5t }), x5t).rejects.toMatchObject({ code: 700027 });
    }
  });

  it('refuses an assertion with no thumbprint at all', async () => {
    await expect(verify('RS256', {})).rejects.toThrow("Thumbprint of key used by client: '(none)'");
  });
});
