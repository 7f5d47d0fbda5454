import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack, raw, uniqueName } from '../support/local.ts';

/**
 * The JWT attack matrix against the running stack over HTTPS: every forged, stretched, misplaced or
 * mis-addressed token is a 401 with the vault's challenge, no key URL a token names is ever fetched,
 * and a canary secret is the same afterwards.
 */
const V = 'api-version=7.6';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

interface Idp {
  key: Awaited<ReturnType<typeof importPKCS8>>;
  kid: string;
  /** The identity provider's public key as PEM: what an HS/RS confusion attack uses as the HMAC secret. */
  publicPem: string;
  publicJwk: Record<string, unknown>;
}

let idp: Idp;
/** A local server standing where jku, x5u and embedded-key attacks point: it counts every request. */
let bait: Server;
let baitUrl: string;
const baitRequests: string[] = [];
let canary: { name: string; id: string };

beforeAll(async () => {
  const info = localStack();
  const pem = readFileSync(join(process.env.COFFER_TEST_DATA_DIR!, 'identity', 'signing-key.pem'), 'utf8');
  const jwks = (await (await fetch(info.jwksUri)).json()) as { keys: ({ kid: string } & Record<string, unknown>)[] };
  const published = jwks.keys[0]!;
  idp = {
    key: await importPKCS8(pem, 'RS256'),
    kid: published.kid,
    publicPem: createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk: published,
  };
  bait = createServer((req, res) => {
    baitRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.jwk] }));
  });
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
  baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`;
  const name = uniqueName('canary');
  const set = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'canary-value' } });
  expect(set.status).toBe(200);
  canary = { name, id: set.json.id };
}, 30_000);

afterAll(async () => {
  await new Promise<void>((resolve) => bait?.close(() => resolve()));
});

/** An attacker's own RSA key, with its public JWK (for jku, x5u and embedded jwk headers). */
const attacker = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256', use: 'sig' } };
})();

/** The claims the identity provider would issue for the administrator, for the vault audience. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const info = localStack();
  const t = now();
  const base: Record<string, unknown> = {
    iss: info.issuer,
    aud: info.audience,
    tid: info.tenantId,
    oid: info.objectId,
    sub: info.objectId,
    appid: info.clientId,
    iat: t,
    nbf: t,
    exp: t + 3600,
    ...extra,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
}

/** Signed with the identity provider's own key: only what the case changes is wrong. */
function idpSigned(payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: idp.kid, ...header }).sign(idp.key);
}

function attackerSigned(payload: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(attacker.privateKey);
}

const CASES: [string, () => Promise<string>, RegExp][] = [
  ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, /AKV10012/],
  [
    'alg none with a kid and a copied signature',
    async () => {
      const real = await idpSigned(claims());
      return `${b64({ alg: 'none', typ: 'JWT', kid: idp.kid })}.${real.split('.')[1]}.${real.split('.')[2]}`;
    },
    /AKV10012/,
  ],
  [
    'HS256 signed with the RSA public key as the secret (HS/RS confusion)',
    async () => {
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: idp.kid })}.${b64(claims())}`;
      const mac = createHmac('sha256', idp.publicPem).update(signingInput).digest('base64url');
      return `${signingInput}.${mac}`;
    },
    /algorithm is not allowed/,
  ],
  [
    'HS256 keyed with the JWK modulus',
    async () => {
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: idp.kid })}.${b64(claims())}`;
      return `${signingInput}.${createHmac('sha256', String(idp.publicJwk.n)).update(signingInput).digest('base64url')}`;
    },
    /algorithm is not allowed/,
  ],
  ['signed with a foreign key under the published kid', () => attackerSigned(claims(), { kid: idp.kid }), /signature is invalid/],
  ['an unknown kid', () => attackerSigned(claims(), { kid: 'no-such-key' }), /signature is invalid/],
  [
    'a tampered payload',
    async () => {
      const [h, , s] = (await idpSigned(claims())).split('.');
      return `${h}.${b64(claims({ oid: '00000000-0000-0000-0000-000000000001' }))}.${s}`;
    },
    /signature is invalid/,
  ],
  [
    'a tampered header',
    async () => {
      const [, p, s] = (await idpSigned(claims())).split('.');
      return `${b64({ alg: 'RS256', typ: 'JWT', kid: idp.kid, x: 1 })}.${p}.${s}`;
    },
    /signature is invalid/,
  ],
  ['expired', () => idpSigned(claims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })), /expired/],
  ['not yet valid (nbf an hour ahead)', () => idpSigned(claims({ nbf: now() + 3600 })), /not yet valid/],
  ['issued in the future (iat an hour ahead)', () => idpSigned(claims({ iat: now() + 3600, nbf: undefined })), /issued in the future/],
  ['with a lifetime over 24 hours', () => idpSigned(claims({ exp: now() + 48 * 3600 })), /lifetime exceeds 24 hours/],
  ['without tid', () => idpSigned(claims({ tid: undefined })), /'tid'/],
  ['without aud', () => idpSigned(claims({ aud: undefined })), /'aud'/],
  ['without iss', () => idpSigned(claims({ iss: undefined })), /'iss'/],
  ['without exp', () => idpSigned(claims({ exp: undefined })), /'exp'/],
  ['for another audience', () => idpSigned(claims({ aud: 'https://storage.example' })), /audience/],
  ['for the management audience', () => idpSigned(claims({ aud: 'https://management.localhost' })), /audience/],
  ['for the vault domain on another port', () => idpSigned(claims({ aud: `${localStack().audience}:1` })), /audience/],
  ['from another issuer', () => idpSigned(claims({ iss: 'https://evil.example/tenant/v2.0' })), /issuer/],
  ['of another tenant', () => idpSigned(claims({ tid: '00000000-0000-0000-0000-000000000000' })), /another tenant/],
  ['with a jku naming the attacker key set', () => attackerSigned(claims(), { kid: 'attacker', jku: `${baitUrl}/jwks` }), /signature is invalid/],
  [
    'with an x5u naming the attacker certificate',
    () => attackerSigned(claims(), { kid: 'attacker', x5u: `${baitUrl}/cert.pem` }),
    /signature is invalid/,
  ],
  ['with the attacker key embedded as jwk', () => attackerSigned(claims(), { jwk: attacker.jwk }), /signature is invalid/],
  [
    'with jku, x5u and jwk under the published kid',
    () => attackerSigned(claims(), { kid: idp.kid, jku: `${baitUrl}/jwks`, x5u: `${baitUrl}/x5u`, jwk: attacker.jwk }),
    /signature is invalid/,
  ],
];

function expectChallenge(response: { status: number; headers: Record<string, unknown>; json: any }, message: RegExp) {
  const info = localStack();
  expect(response.status).toBe(401);
  expect(response.json.error.code).toBe('Unauthorized');
  expect(response.json.error.message).toMatch(message);
  expect(response.headers['www-authenticate']).toBe(
    `Bearer authorization="${info.authorityHost}/${info.tenantId}", resource="${info.audience}:${new URL(info.vaultUrl).port}"`,
  );
}

describe('JWT attack matrix', { timeout: 30_000 }, () => {
  it('accepts the control token signed like the identity provider signs', async () => {
    const response = await raw('GET', `/secrets/${canary.name}?${V}`, { token: await idpSigned(claims()) });
    expect(response.status).toBe(200);
    expect(response.json.value).toBe('canary-value');
  });

  it.each(CASES)('refuses a token %s with 401 and the challenge, changing nothing', async (_label, mint, message) => {
    const token = await mint();
    const write = await raw('PUT', `/secrets/${canary.name}?${V}`, { body: { value: 'overwritten' }, token });
    expectChallenge(write, message);
    const remove = await raw('DELETE', `/secrets/${canary.name}?${V}`, { token });
    expectChallenge(remove, message);
  });

  it('takes no token from the query string or a cookie', async () => {
    const good = await idpSigned(claims());
    const placements: [string, Record<string, string>][] = [
      [`/secrets/${canary.name}?${V}&access_token=${good}`, {}],
      [`/secrets/${canary.name}?${V}`, { cookie: `access_token=${good}` }],
      [`/secrets/${canary.name}?${V}`, { cookie: `Authorization=Bearer ${good}` }],
      [`/secrets/${canary.name}?${V}`, { 'x-ms-authorization-auxiliary': `Bearer ${good}` }],
    ];
    for (const [path, headers] of placements) {
      const response = await raw('PUT', path, { body: { value: 'overwritten' }, token: null, headers });
      expectChallenge(response, /AKV10000/);
    }
    for (const authorization of [`Basic ${good}`, `Token ${good}`, good, `Bearer`, `Bearer ${good} ${good}`]) {
      const response = await raw('PUT', `/secrets/${canary.name}?${V}`, { body: { value: 'overwritten' }, token: null, headers: { authorization } });
      expectChallenge(response, /AKV10000/);
    }
  });

  it('never contacts a URL a token names (jku, x5u)', () => {
    expect(baitRequests).toEqual([]);
  });

  it('leaves the canary secret as it was', async () => {
    const read = await raw('GET', `/secrets/${canary.name}?${V}`);
    expect(read.status).toBe(200);
    expect(read.json.value).toBe('canary-value');
    expect(read.json.id).toBe(canary.id);
    const versions = await raw('GET', `/secrets/${canary.name}/versions?${V}`);
    expect(versions.json.value).toHaveLength(1);
  });
});
