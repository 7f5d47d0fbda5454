import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { raw, uniqueName } from '../support/local.ts';

/** The keys API on the wire: shapes, and every kind of bad input refused with the right 4xx. */
const V = 'api-version=7.6';
const digest256 = createHash('sha256').update('m').digest().toString('base64url');

async function createKey(name: string, body: object) {
  const response = await raw('POST', `/keys/${name}/create?${V}`, { body });
  expect(response.status, response.text).toBe(200);
  return response.json;
}

describe('key bundles', () => {
  it('returns the public JWK only, with kid, key_ops and key attributes', async () => {
    const name = uniqueName('wire-rsa');
    const bundle = await createKey(name, { kty: 'RSA', key_size: 2048, tags: { t: 'v' } });
    expect(bundle.key.kid).toMatch(new RegExp(`/keys/${name}/[0-9a-f]{32}$`));
    expect(bundle.key.kty).toBe('RSA');
    expect(Buffer.from(bundle.key.n, 'base64url').length).toBe(256);
    expect(bundle.key.e).toBe('AQAB');
    for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(bundle.key[privateMember]).toBeUndefined();
    expect(bundle.attributes).toMatchObject({ enabled: true, exportable: false, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 });
    expect(bundle.tags).toEqual({ t: 'v' });
    const got = await raw('GET', `/keys/${name}/?${V}`);
    expect(got.json.key).toEqual(bundle.key);
  });

  it('marks HSM keys with their kty and never returns private material', async () => {
    const bundle = await createKey(uniqueName('wire-hsm'), { kty: 'EC-HSM', crv: 'P-384' });
    expect(bundle.key).toMatchObject({ kty: 'EC-HSM', crv: 'P-384', key_ops: ['sign', 'verify'] });
    expect(Buffer.from(bundle.key.x, 'base64url').length).toBe(48);
    expect(bundle.key.d).toBeUndefined();
  });
});

describe('bad input on keys', () => {
  const refused: [string, object, number, RegExp][] = [
    ['oct keys', { kty: 'oct', key_size: 256 }, 400, /oct/],
    ['oct-HSM keys', { kty: 'oct-HSM', key_size: 256 }, 400, /oct-HSM/],
    ['an unknown kty', { kty: 'DSA' }, 400, /key type/],
    ['an RSA size Azure does not offer', { kty: 'RSA', key_size: 1024 }, 400, /key size/],
    ['an unknown curve', { kty: 'EC', crv: 'P-224' }, 400, /curve/],
    ['an unknown key operation', { kty: 'RSA', key_ops: ['fly'] }, 400, /key operation/],
    ['encryption ops on an EC key', { kty: 'EC', key_ops: ['encrypt'] }, 400, /EC keys/],
    ['a string key size', { kty: 'RSA', key_size: '2048' }, 400, /key_size/],
    ['exportable without release policy', { kty: 'RSA', attributes: { exportable: true } }, 400, /release policy/],
  ];

  it.each(refused)('refuses %s', async (_label, body, status, message) => {
    const name = uniqueName('refused');
    const response = await raw('POST', `/keys/${name}/create?${V}`, { body });
    expect(response.status, response.text).toBe(status);
    expect(response.json.error.code).toBe('BadParameter');
    expect(response.json.error.message).toMatch(message);
    expect((await raw('GET', `/keys/${name}?${V}`)).status).toBe(404);
  });

  it('refuses the wrong algorithm for the key type and a digest of the wrong length', async () => {
    const name = uniqueName('alg');
    await createKey(name, { kty: 'EC', crv: 'P-256' });
    const wrongAlg = await raw('POST', `/keys/${name}//sign?${V}`, { body: { alg: 'ES384', value: digest256 } });
    expect(wrongAlg.status).toBe(400);
    const rsaAlg = await raw('POST', `/keys/${name}//sign?${V}`, { body: { alg: 'RS256', value: digest256 } });
    expect(rsaAlg.status).toBe(400);
    const shortDigest = await raw('POST', `/keys/${name}//sign?${V}`, { body: { alg: 'ES256', value: Buffer.alloc(20).toString('base64url') } });
    expect(shortDigest.status).toBe(400);
    expect(shortDigest.json.error.message).toMatch(/digest/i);
    const encrypt = await raw('POST', `/keys/${name}//encrypt?${V}`, { body: { alg: 'RSA-OAEP', value: 'AAAA' } });
    expect([400, 403]).toContain(encrypt.status);
  });

  it('refuses a version that is not 32 hex characters with 400 BadParameter on every version route', async () => {
    const name = uniqueName('badver');
    const created = await createKey(name, { kty: 'RSA', key_size: 2048 });
    const wrapped = Buffer.alloc(256).toString('base64url');
    const routes: [string, string, object | undefined][] = [
      ['GET', '', undefined],
      ['PATCH', '', { tags: { t: 'changed' } }],
      ['POST', '/encrypt', { alg: 'RSA-OAEP', value: 'AAAA' }],
      ['POST', '/decrypt', { alg: 'RSA-OAEP', value: wrapped }],
      ['POST', '/wrapkey', { alg: 'RSA-OAEP', value: 'AAAA' }],
      ['POST', '/unwrapkey', { alg: 'RSA-OAEP', value: wrapped }],
      ['POST', '/sign', { alg: 'RS256', value: digest256 }],
      ['POST', '/verify', { alg: 'RS256', digest: digest256, value: wrapped }],
    ];
    for (const version of ['x'.repeat(1100), 'a'.repeat(1025), 'not-a-version', '0123456789abcdef', `${'0'.repeat(32)}0`, 'g'.repeat(32)]) {
      for (const [method, tail, body] of routes) {
        const response = await raw(method, `/keys/${name}/${version}${tail}?${V}`, body ? { body } : {});
        expect(response.status, `${method} ${tail} ${version.slice(0, 40)}: ${response.text.slice(0, 200)}`).toBe(400);
        expect(response.json.error.code).toBe('BadParameter');
        expect(response.json.error.message).toMatch(/32 hexadecimal characters/);
      }
    }
    const latest = await raw('GET', `/keys/${name}?${V}`);
    expect(latest.json.key.kid).toBe(created.key.kid);
    expect(latest.json.tags).toBeUndefined();
  });

  it('refuses malformed base64url and oversize plaintext', async () => {
    const name = uniqueName('b64');
    await createKey(name, { kty: 'RSA', key_size: 2048 });
    const malformed = await raw('POST', `/keys/${name}//encrypt?${V}`, { body: { alg: 'RSA-OAEP', value: 'not base64url!' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.message).toMatch(/base64url/);
    const tooLong = await raw('POST', `/keys/${name}//encrypt?${V}`, { body: { alg: 'RSA-OAEP', value: Buffer.alloc(215).toString('base64url') } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.message).toMatch(/at most 214 bytes/);
    const fits = await raw('POST', `/keys/${name}//encrypt?${V}`, { body: { alg: 'RSA-OAEP', value: Buffer.alloc(214).toString('base64url') } });
    expect(fits.status).toBe(200);
  });

  it('refuses an operation missing from key_ops with 403 KeyOperationForbidden', async () => {
    const name = uniqueName('ops');
    await createKey(name, { kty: 'RSA', key_ops: ['sign', 'verify'] });
    const response = await raw('POST', `/keys/${name}//encrypt?${V}`, { body: { alg: 'RSA-OAEP', value: 'AAAA' } });
    expect(response.status).toBe(403);
    expect(response.json.error).toEqual({
      code: 'Forbidden',
      message: 'Operation encrypt is not permitted on this key.',
      innererror: { code: 'KeyOperationForbidden' },
    });
  });

  it('refuses every operation on a disabled key, and sign but not verify outside the validity window', async () => {
    const disabled = uniqueName('disabled');
    await createKey(disabled, { kty: 'EC', attributes: { enabled: false } });
    const denied = await raw('POST', `/keys/${disabled}//verify?${V}`, {
      body: { alg: 'ES256', digest: digest256, value: Buffer.alloc(64).toString('base64url') },
    });
    expect(denied.status).toBe(403);
    expect(denied.json.error.innererror.code).toBe('KeyDisabled');

    const expired = uniqueName('expired');
    await createKey(expired, { kty: 'EC', attributes: { exp: Math.floor(Date.now() / 1000) - 60 } });
    const sign = await raw('POST', `/keys/${expired}//sign?${V}`, { body: { alg: 'ES256', value: digest256 } });
    expect(sign.status).toBe(403);
    expect(sign.json.error.innererror.code).toBe('KeyExpired');
    const verify = await raw('POST', `/keys/${expired}//verify?${V}`, {
      body: { alg: 'ES256', digest: digest256, value: Buffer.alloc(64).toString('base64url') },
    });
    expect(verify.status).toBe(200);
    expect(verify.json.value).toBe(false);

    const future = uniqueName('future');
    await createKey(future, { kty: 'EC', attributes: { nbf: Math.floor(Date.now() / 1000) + 3600 } });
    const early = await raw('POST', `/keys/${future}//sign?${V}`, { body: { alg: 'ES256', value: digest256 } });
    expect(early.status).toBe(403);
    expect(early.json.error.innererror.code).toBe('KeyNotYetValid');
  });

  it('refuses a rotation policy that breaks the rules', async () => {
    const name = uniqueName('policy');
    await createKey(name, { kty: 'EC' });
    const cases = [
      { lifetimeActions: [{ trigger: { timeAfterCreate: 'P1D' }, action: { type: 'Rotate' } }] },
      { lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Explode' } }] },
      { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }] },
      { attributes: { expiryTime: 'P7D' } },
      { attributes: { expiryTime: 'ninety days' } },
    ];
    for (const body of cases) {
      const response = await raw('PUT', `/keys/${name}/rotationpolicy?${V}`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('refuses a rotation policy duration that would reach past the latest date the API can carry, naming the field', async () => {
    const name = uniqueName('far-policy');
    await createKey(name, { kty: 'EC' });
    const cases: [object, RegExp][] = [
      [{ attributes: { expiryTime: 'P1000000Y' } }, /expiryTime/],
      [{ attributes: { expiryTime: `P${'9'.repeat(400)}D` } }, /expiryTime/],
      [{ lifetimeActions: [{ trigger: { timeAfterCreate: 'P1000000Y' }, action: { type: 'Rotate' } }] }, /timeAfterCreate/],
      [
        { attributes: { expiryTime: 'P2Y' }, lifetimeActions: [{ trigger: { timeBeforeExpiry: 'PT99999999999999S' }, action: { type: 'Notify' } }] },
        /timeBeforeExpiry/,
      ],
    ];
    for (const [body, field] of cases) {
      const response = await raw('PUT', `/keys/${name}/rotationpolicy?${V}`, { body });
      expect(response.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(response.json.error.code).toBe('BadParameter');
      expect(response.json.error.message).toMatch(field);
    }
    expect((await raw('GET', `/keys/${name}/rotationpolicy?${V}`)).json.attributes.expiryTime).toBeUndefined();
    const rotated = await raw('POST', `/keys/${name}/rotate?${V}`);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json.attributes.exp).toBeUndefined();
    // The longest duration that still ends before the year 10000 is accepted.
    const far = await raw('PUT', `/keys/${name}/rotationpolicy?${V}`, { body: { attributes: { expiryTime: 'P7000Y' } } });
    expect(far.status, far.text).toBe(200);
    const farRotated = await raw('POST', `/keys/${name}/rotate?${V}`);
    expect(farRotated.json.attributes.exp).toBeLessThanOrEqual(253402300799);
  });

  it('answers secure key release and key attestation with a clear not-supported 400, with or without a version', async () => {
    const name = uniqueName('release');
    const created = await createKey(name, { kty: 'RSA', key_size: 2048 });
    const version = created.key.kid.split('/').at(-1);
    for (const path of [`/keys/${name}/release`, `/keys/${name}//release`, `/keys/${name}/${version}/release`]) {
      const response = await raw('POST', `${path}?${V}`, { body: { target: 'attestation-token' } });
      expect(response.status, `${path}: ${response.text}`).toBe(400);
      expect(response.json.error.code).toBe('BadParameter');
      expect(response.json.error.message).toMatch(/Secure key release is not supported by this vault/);
    }
    for (const path of [`/keys/${name}/attestation`, `/keys/${name}//attestation`, `/keys/${name}/${version}/attestation`]) {
      const response = await raw('GET', `${path}?${V}`);
      expect(response.status, `${path}: ${response.text}`).toBe(400);
      expect(response.json.error.code).toBe('BadParameter');
      expect(response.json.error.message).toMatch(/Key attestation is not supported by this vault/);
    }
    const badVersion = await raw('POST', `/keys/${name}/not-a-version/release?${V}`, { body: { target: 'attestation-token' } });
    expect(badVersion.json.error.message).toMatch(/32 hexadecimal characters/);
  });

  it('refuses rng counts outside 1..128 and non-integers', async () => {
    for (const count of [0, 129, 1.5]) expect((await raw('POST', `/rng?${V}`, { body: { count } })).status).toBe(400);
    const ok = await raw('POST', `/rng?${V}`, { body: { count: 16 } });
    expect(Buffer.from(ok.json.value, 'base64url')).toHaveLength(16);
  });

  it('refuses an import whose private key does not match its public members', async () => {
    const a = await raw('POST', `/keys/${uniqueName('src')}/create?${V}`, { body: { kty: 'EC' } });
    const response = await raw('PUT', `/keys/${uniqueName('mismatch')}?${V}`, {
      body: { key: { kty: 'EC', crv: 'P-256', x: a.json.key.x, y: a.json.key.y, d: Buffer.alloc(32, 1).toString('base64url') } },
    });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('BadParameter');
  });
});
