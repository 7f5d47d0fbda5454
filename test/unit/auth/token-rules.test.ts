import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, type JWTVerifyGetKey, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LIFETIME_SECONDS, TokenAuthenticator } from '../../../lib/auth/authenticate.ts';
import type { TrustedIssuer } from '../../../lib/auth/trusted-issuer.ts';
import { Unauthorized } from '../../../lib/core/errors.ts';

/** The claim rules (tid, lifetime, skew) and the port-qualified vault audience, on a clock the test sets. */
const VAULT_DOMAIN = 'vault.example.test';
const issuer: TrustedIssuer = {
  tenantId: 'tenant-a',
  issuer: 'https://login.example.test/tenant-a/v2.0',
  jwksUri: 'https://login.example.test/tenant-a/keys',
  audiences: [`https://${VAULT_DOMAIN}`],
  authority: 'https://login.example.test/tenant-a',
};

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = Math.floor(T0 / 1000);

function authenticator(issuers: TrustedIssuer[] = [issuer]) {
  const lookups = { count: 0 };
  const keySet: JWTVerifyGetKey = (header, token) => {
    lookups.count++;
    return jwks(header, token);
  };
  const auth = new TokenAuthenticator(issuers, VAULT_DOMAIN, 'https://management.example.test', { now: () => T0, keySet: () => keySet });
  return { auth, lookups };
}

interface Times {
  iat?: number;
  nbf?: number;
  exp?: number;
}

/** A token of tenant-a for the vault domain; `undefined` in claims drops the claim. */
function token(claims: Record<string, unknown> = {}, times: Times = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    oid: 'object-1',
    tid: 'tenant-a',
    iss: issuer.issuer,
    aud: issuer.audiences[0],
    iat: times.iat ?? NOW,
    exp: times.exp ?? NOW + 3600,
    ...(times.nbf === undefined ? {} : { nbf: times.nbf }),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
}

const bearer = (t: string) => `Bearer ${t}`;

async function refusal(promise: Promise<unknown>): Promise<Unauthorized> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Unauthorized);
  return error as Unauthorized;
}

describe('claims every token must carry', () => {
  it('accepts the control token', async () => {
    const principal = await authenticator().auth.authenticate(bearer(await token()), 'tenant-a');
    expect(principal).toMatchObject({ tenantId: 'tenant-a', objectId: 'object-1' });
  });

  it('refuses a token without tid, with the challenge, and does not cache it', async () => {
    const { auth, lookups } = authenticator();
    const t = await token({ tid: undefined });
    for (let i = 0; i < 2; i++) {
      const error = await refusal(auth.authenticate(bearer(t), 'tenant-a'));
      expect(error.message).toMatch(/'tid'/);
      expect(error.headers['WWW-Authenticate']).toBe(`Bearer authorization="${issuer.authority}", resource="https://${VAULT_DOMAIN}"`);
    }
    expect(lookups.count).toBe(2);
  });

  it('refuses a tid that is not a string', async () => {
    const error = await refusal(authenticator().auth.authenticate(bearer(await token({ tid: 42 })), 'tenant-a'));
    expect(error.message).toMatch(/tenant \(tid\)/);
  });

  it('refuses a tid of another tenant even when its issuer is trusted', async () => {
    const error = await refusal(authenticator().auth.authenticate(bearer(await token({ tid: 'tenant-b' })), 'tenant-a'));
    expect(error.message).toMatch(/another tenant/);
  });

  for (const claim of ['exp', 'iat', 'iss', 'aud']) {
    it(`refuses a token without ${claim}`, async () => {
      const error = await refusal(authenticator().auth.authenticate(bearer(await token({ [claim]: undefined })), 'tenant-a'));
      expect(error.message).toBe(`AKV10012: The token has no '${claim}' claim.`);
    });
  }
});

describe('lifetime and clock skew', () => {
  it('states a 24 hour maximum lifetime and a 5 minute skew', () => {
    expect(MAX_TOKEN_LIFETIME_SECONDS).toBe(86_400);
    expect(CLOCK_TOLERANCE_SECONDS).toBe(300);
  });

  it('accepts a lifetime of exactly the maximum and refuses one second more (exp - iat)', async () => {
    const { auth } = authenticator();
    await expect(auth.authenticate(bearer(await token({}, { exp: NOW + MAX_TOKEN_LIFETIME_SECONDS })), 'tenant-a')).resolves.toBeTruthy();
    const error = await refusal(auth.authenticate(bearer(await token({}, { exp: NOW + MAX_TOKEN_LIFETIME_SECONDS + 1 })), 'tenant-a'));
    expect(error.message).toBe('AKV10013: Token lifetime exceeds 24 hours.');
  });

  it('bounds exp - nbf as well', async () => {
    // iat an hour in the past keeps exp - iat within bounds; nbf far earlier is the stretched one.
    const times = { iat: NOW - 3600, nbf: NOW - 2 * MAX_TOKEN_LIFETIME_SECONDS, exp: NOW + 3600 };
    const error = await refusal(authenticator().auth.authenticate(bearer(await token({}, times)), 'tenant-a'));
    expect(error.message).toMatch(/lifetime exceeds/);
  });

  it('refuses a ten-year token', async () => {
    const error = await refusal(authenticator().auth.authenticate(bearer(await token({}, { exp: NOW + 10 * 365 * 86_400 })), 'tenant-a'));
    expect(error.message).toMatch(/lifetime exceeds/);
  });

  it('accepts an iat within the skew in the future and refuses one beyond it', async () => {
    const { auth } = authenticator();
    await expect(auth.authenticate(bearer(await token({}, { iat: NOW + CLOCK_TOLERANCE_SECONDS - 1 })), 'tenant-a')).resolves.toBeTruthy();
    const error = await refusal(auth.authenticate(bearer(await token({}, { iat: NOW + CLOCK_TOLERANCE_SECONDS + 60 })), 'tenant-a'));
    expect(error.message).toBe('AKV10013: Token is issued in the future.');
  });

  it('applies the skew to exp and nbf', async () => {
    const { auth } = authenticator();
    const past = { iat: NOW - 7200 };
    await expect(auth.authenticate(bearer(await token({}, { ...past, exp: NOW - CLOCK_TOLERANCE_SECONDS + 5 })), 'tenant-a')).resolves.toBeTruthy();
    expect(
      (await refusal(auth.authenticate(bearer(await token({}, { ...past, exp: NOW - CLOCK_TOLERANCE_SECONDS - 5 })), 'tenant-a'))).message,
    ).toMatch(/expired/);
    await expect(auth.authenticate(bearer(await token({}, { nbf: NOW + CLOCK_TOLERANCE_SECONDS - 5 })), 'tenant-a')).resolves.toBeTruthy();
    expect((await refusal(auth.authenticate(bearer(await token({}, { nbf: NOW + CLOCK_TOLERANCE_SECONDS + 5 })), 'tenant-a'))).message).toMatch(
      /not yet valid/,
    );
  });
});

describe('the vault on a port', () => {
  const PORTED = `https://${VAULT_DOMAIN}:8443`;

  it('names the port in the challenge resource when the vault URL has one', async () => {
    const error = await refusal(authenticator().auth.authenticate(undefined, 'tenant-a', 'data', { port: 8443 }));
    expect(error.headers['WWW-Authenticate']).toBe(`Bearer authorization="${issuer.authority}", resource="${PORTED}"`);
  });

  it('accepts the port-qualified audience at that port, and the plain audience there too', async () => {
    const { auth } = authenticator();
    await expect(auth.authenticate(bearer(await token({ aud: PORTED })), 'tenant-a', 'data', { port: 8443 })).resolves.toMatchObject({
      objectId: 'object-1',
    });
    await expect(auth.authenticate(bearer(await token()), 'tenant-a', 'data', { port: 8443 })).resolves.toMatchObject({ objectId: 'object-1' });
  });

  it('refuses the port-qualified audience without a port, at another port, and for another origin', async () => {
    const { auth } = authenticator();
    const ported = await token({ aud: PORTED });
    expect((await refusal(auth.authenticate(bearer(ported), 'tenant-a', 'data'))).message).toMatch(/audience/);
    expect((await refusal(auth.authenticate(bearer(ported), 'tenant-a', 'data', { port: 9443 }))).message).toMatch(/audience/);
    for (const aud of ['https://evil.example:8443', `http://${VAULT_DOMAIN}:8443`, `https://x.${VAULT_DOMAIN}:8443`, `${PORTED}/`]) {
      expect((await refusal(auth.authenticate(bearer(await token({ aud })), 'tenant-a', 'data', { port: 8443 }))).message).toMatch(/audience/);
    }
  });

  it('never lets a token cached at one port pass at another', async () => {
    const { auth, lookups } = authenticator();
    const ported = await token({ aud: PORTED });
    await auth.authenticate(bearer(ported), 'tenant-a', 'data', { port: 8443 });
    await auth.authenticate(bearer(ported), 'tenant-a', 'data', { port: 8443 });
    expect(lookups.count).toBe(1);
    expect((await refusal(auth.authenticate(bearer(ported), 'tenant-a', 'data', { port: 9443 }))).message).toMatch(/audience/);
    expect((await refusal(auth.authenticate(bearer(ported), 'tenant-a', 'data'))).message).toMatch(/audience/);
  });

  it('adds the port-qualified audience only as the ported form of the vault domain the issuer accepts', async () => {
    const appIdOnly: TrustedIssuer = { ...issuer, audiences: ['cfa8b339-82a2-471a-a3c9-0fc0be7a4093'] };
    const { auth } = authenticator([appIdOnly]);
    const error = await refusal(auth.authenticate(bearer(await token({ aud: PORTED })), 'tenant-a', 'data', { port: 8443 }));
    expect(error.message).toMatch(/audience/);
  });

  it('never accepts the port-qualified vault audience on the management plane', async () => {
    const { auth } = authenticator([{ ...issuer, audiences: [...issuer.audiences, 'https://management.example.test'] }]);
    const error = await refusal(auth.authenticate(bearer(await token({ aud: PORTED })), 'tenant-a', 'management', { port: 8443 }));
    expect(error.message).toMatch(/audience/);
  });
});
