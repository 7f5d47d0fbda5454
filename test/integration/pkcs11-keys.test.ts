/**
 * The PKCS#11 adapter (lib/pkcs11/) against a real SoftHSM2 token: every key type and algorithm of a
 * managed HSM pool, each checked against node:crypto both ways (node:crypto verifies the HSM's
 * signatures and decrypts its ciphertexts; the HSM verifies node:crypto's and decrypts what
 * node:crypto encrypted with the public part), one RSA key that signs and decrypts, and what SoftHSM2
 * does not implement reported as such. Where node:crypto needs the private or secret key too (the HSM
 * verifying node:crypto's signatures, node:crypto decrypting the HSM's AES output), the key is one the
 * test put into the token as a pool key (putKnownKey): a generated key's material cannot be read.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import type { Curve, SignatureAlgorithm } from '../../lib/keys/algorithms.ts';
import { HsmDecryptionFailed, type HsmKey, HsmOperationNotSupported, type HsmPublicKey } from '../../lib/hsm/hsm-keys.ts';
import { Pkcs11PoolHsm } from '../../lib/pkcs11/pkcs11-hsm-keys.ts';
import { createSoftHsmToken, putKnownKey, removeSoftHsmTokens, type SoftHsmToken } from '../support/softhsm.ts';

let token: SoftHsmToken;
let hsm: Pkcs11PoolHsm;

beforeAll(() => {
  token = createSoftHsmToken('pkcs11-keys');
  hsm = new Pkcs11PoolHsm(token);
});

afterAll(() => {
  removeSoftHsmTokens();
});

function nodePublicKey(publicKey: HsmPublicKey): KeyObject {
  if (publicKey.kty === 'RSA')
    return createPublicKey({ key: { kty: 'RSA', n: publicKey.n.toString('base64url'), e: publicKey.e.toString('base64url') }, format: 'jwk' });
  if (publicKey.kty === 'EC') {
    const crv = publicKey.crv === 'P-256K' ? 'secp256k1' : publicKey.crv;
    return createPublicKey({ key: { kty: 'EC', crv, x: publicKey.x.toString('base64url'), y: publicKey.y.toString('base64url') }, format: 'jwk' });
  }
  throw new Error('an AES key has no public part');
}

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;

function hashOf(algorithm: SignatureAlgorithm): 'sha256' | 'sha384' | 'sha512' {
  return HASH[(algorithm === 'ES256K' ? 256 : Number(algorithm.slice(2))) as 256 | 384 | 512];
}

function nodeOptions(algorithm: SignatureAlgorithm, key: KeyObject) {
  if (algorithm.startsWith('PS')) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(algorithm.slice(2)) / 8 };
  if (algorithm.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

describe.each([2048, 3072, 4096] as const)('RSA-HSM %i', (size) => {
  let key: HsmKey;
  let publicKey: KeyObject;
  const message = Buffer.from(`a message for RSA ${size}`);

  beforeAll(async () => {
    key = await hsm.generateKey({ kty: 'RSA', size });
    publicKey = nodePublicKey(key.publicKey);
  });

  it('is generated in the HSM with the public part as n and e, and describes itself by its handle', async () => {
    expect(key.handle).toMatch(/^coffer-[0-9a-f-]{36}$/);
    expect(key.spec).toEqual({ kty: 'RSA', size });
    if (key.publicKey.kty !== 'RSA') throw new Error('not RSA');
    expect(key.publicKey.n.length).toBe(size / 8);
    expect(key.publicKey.e).toEqual(Buffer.from([1, 0, 1]));
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(size);
    expect(await hsm.describeKey(key.handle)).toEqual(key);
  });

  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const)(
    '%s: node:crypto verifies the HSM, the HSM verifies node:crypto',
    async (algorithm) => {
      const hash = hashOf(algorithm);
      const digest = createHash(hash).update(message).digest();
      const signature = await hsm.signDigest(key.handle, algorithm, digest);
      expect(signature.length).toBe(size / 8);
      expect(verify(hash, message, nodeOptions(algorithm, publicKey), signature)).toBe(true);
      expect(verify(hash, Buffer.from('another message'), nodeOptions(algorithm, publicKey), signature)).toBe(false);
      expect(await hsm.verifyDigest(key.handle, algorithm, digest, signature)).toBe(true);
      const tampered = Buffer.from(signature);
      tampered[10] = tampered[10]! ^ 1;
      expect(await hsm.verifyDigest(key.handle, algorithm, digest, tampered)).toBe(false);
      expect(await hsm.verifyDigest(key.handle, algorithm, digest, signature.subarray(1))).toBe(false);
    },
  );

  it('one key both signs and decrypts, with RSA-OAEP and RSA1_5 from node:crypto', async () => {
    const digest = createHash('sha256').update(message).digest();
    expect(verify('sha256', message, publicKey, await hsm.signDigest(key.handle, 'RS256', digest))).toBe(true);
    const secret = randomBytes(32);
    const oaep = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, secret);
    expect(await hsm.decrypt(key.handle, { algorithm: 'RSA-OAEP' }, oaep)).toEqual(secret);
    const pkcs1 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    expect(await hsm.decrypt(key.handle, { algorithm: 'RSA1_5' }, pkcs1)).toEqual(secret);
    expect(await hsm.unwrapKey(key.handle, 'RSA-OAEP', oaep)).toEqual(secret);
    expect(await hsm.unwrapKey(key.handle, 'RSA1_5', pkcs1)).toEqual(secret);
  });

  it('encrypts and wraps with RSA-OAEP and RSA1_5 what it decrypts again', async () => {
    const secret = randomBytes(32);
    for (const algorithm of ['RSA-OAEP', 'RSA1_5'] as const) {
      const { ciphertext, tag } = await hsm.encrypt(key.handle, { algorithm }, secret);
      expect(tag).toBeUndefined();
      expect(ciphertext.length).toBe(size / 8);
      expect(await hsm.decrypt(key.handle, { algorithm }, ciphertext)).toEqual(secret);
      const wrapped = await hsm.wrapKey(key.handle, algorithm, secret);
      expect(await hsm.unwrapKey(key.handle, algorithm, wrapped)).toEqual(secret);
    }
  });

  it('a ciphertext that is not this key’s is a decryption failure (400), not an HSM failure', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: size }).publicKey;
    const foreign = publicEncrypt({ key: other, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('x'));
    const error = await hsm.decrypt(key.handle, { algorithm: 'RSA-OAEP' }, foreign).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HsmDecryptionFailed);
    expect((error as BadParameter).status).toBe(400);
  });
});

describe('RSA-OAEP-256 on SoftHSM2', () => {
  it('is refused as not supported by the HSM (SoftHSM 2.6 implements OAEP with SHA-1 only), both ways', async () => {
    const key = await hsm.generateKey({ kty: 'RSA', size: 2048 });
    const publicKey = nodePublicKey(key.publicKey);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('secret'));
    for (const attempt of [
      hsm.decrypt(key.handle, { algorithm: 'RSA-OAEP-256' }, ciphertext),
      hsm.encrypt(key.handle, { algorithm: 'RSA-OAEP-256' }, Buffer.from('secret')),
      hsm.unwrapKey(key.handle, 'RSA-OAEP-256', ciphertext),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HsmOperationNotSupported);
      expect((error as BadParameter).status).toBe(400);
      expect((error as Error).message).toBe(
        "The pool's HSM does not support RSA-OAEP-256 " +
          ((error as Error).message.includes('encryption') ? 'encryption' : 'decryption') +
          ' (CKR_ARGUMENTS_BAD).',
      );
    }
  });
});

describe.each([
  ['P-256', 'ES256', 'prime256v1'],
  ['P-384', 'ES384', 'secp384r1'],
  ['P-521', 'ES512', 'secp521r1'],
  ['P-256K', 'ES256K', 'secp256k1'],
] as const)('EC-HSM %s', (curve: Curve, algorithm: SignatureAlgorithm, namedCurve: string) => {
  let key: HsmKey;
  let publicKey: KeyObject;
  const message = Buffer.from(`a message for ${curve}`);

  beforeAll(async () => {
    key = await hsm.generateKey({ kty: 'EC', curve });
    publicKey = nodePublicKey(key.publicKey);
  });

  it(`is generated with its public part as x and y on ${namedCurve}`, () => {
    expect(key.spec).toEqual({ kty: 'EC', curve });
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(namedCurve);
  });

  it(`${algorithm}: node:crypto verifies the HSM's r || s; the HSM verifies it and refuses another key's`, async () => {
    const hash = hashOf(algorithm);
    const digest = createHash(hash).update(message).digest();
    const signature = await hsm.signDigest(key.handle, algorithm, digest);
    expect(signature.length).toBe({ 'P-256': 64, 'P-384': 96, 'P-521': 132, 'P-256K': 64 }[curve]);
    expect(verify(hash, message, nodeOptions(algorithm, publicKey), signature)).toBe(true);
    expect(await hsm.verifyDigest(key.handle, algorithm, digest, signature)).toBe(true);

    const other = generateKeyPairSync('ec', { namedCurve }).privateKey;
    expect(await hsm.verifyDigest(key.handle, algorithm, digest, sign(hash, message, { key: other, dsaEncoding: 'ieee-p1363' }))).toBe(false);
  });

  it('refuses a digest of the wrong length and another curve’s algorithm with a 400', async () => {
    const wrongLength = await hsm.signDigest(key.handle, algorithm, Buffer.alloc(20)).catch((e: unknown) => e);
    expect(wrongLength).toBeInstanceOf(BadParameter);
    expect((wrongLength as Error).message).toMatch(/^Invalid digest length 20 for algorithm/);
    const otherCurve = algorithm === 'ES384' ? 'ES256' : 'ES384';
    const wrongAlgorithm = await hsm.signDigest(key.handle, otherCurve, Buffer.alloc(48)).catch((e: unknown) => e);
    expect(wrongAlgorithm).toBeInstanceOf(BadParameter);
    expect((wrongAlgorithm as BadParameter).status).toBe(400);
  });
});

describe.each([128, 192, 256] as const)('oct-HSM AES %i', (size) => {
  let key: HsmKey;
  const kw = `A${size}KW` as const;
  const gcm = `A${size}GCM` as const;
  const cbc = `A${size}CBC` as const;
  const cbcPad = `A${size}CBCPAD` as const;
  beforeAll(async () => {
    key = await hsm.generateKey({ kty: 'oct', size });
  });

  it('is generated with no public part', () => {
    expect(key.spec).toEqual({ kty: 'oct', size });
    expect(key.publicKey).toEqual({ kty: 'oct' });
  });

  it(`${gcm}: encrypts with the caller's iv and additional data, returns the tag apart, and decrypts it back`, async () => {
    const iv = randomBytes(12);
    const additionalData = Buffer.from('header');
    const plaintext = Buffer.from('attack at dawn, in GCM');
    const { ciphertext, tag } = await hsm.encrypt(key.handle, { algorithm: gcm, iv, additionalData }, plaintext);
    expect(ciphertext.length).toBe(plaintext.length);
    expect(tag?.length).toBe(16);
    expect(await hsm.decrypt(key.handle, { algorithm: gcm, iv, additionalData, tag: tag! }, ciphertext)).toEqual(plaintext);

    const wrongTag = Buffer.from(tag!);
    wrongTag[0] = wrongTag[0]! ^ 1;
    for (const attempt of [
      { algorithm: gcm, iv, additionalData, tag: wrongTag },
      { algorithm: gcm, iv, additionalData: Buffer.from('other'), tag: tag! },
      { algorithm: gcm, iv: randomBytes(12), additionalData, tag: tag! },
    ]) {
      const error = await hsm.decrypt(key.handle, attempt, ciphertext).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HsmDecryptionFailed);
      expect((error as BadParameter).status).toBe(400);
    }
  });

  it(`${cbc} and ${cbcPad} with the caller's iv`, async () => {
    const iv = randomBytes(16);
    const blocks = randomBytes(32);
    const { ciphertext } = await hsm.encrypt(key.handle, { algorithm: cbc, iv }, blocks);
    expect(ciphertext.length).toBe(32);
    expect(await hsm.decrypt(key.handle, { algorithm: cbc, iv }, ciphertext)).toEqual(blocks);
    const text = Buffer.from('not a whole number of blocks');
    const padded = await hsm.encrypt(key.handle, { algorithm: cbcPad, iv }, text);
    expect(padded.ciphertext.length).toBe(32);
    expect(await hsm.decrypt(key.handle, { algorithm: cbcPad, iv }, padded.ciphertext)).toEqual(text);
  });

  it(`${kw}: wraps key bytes (RFC 3394) and unwraps them again`, async () => {
    const keyBytes = randomBytes(32);
    const wrapped = await hsm.wrapKey(key.handle, kw, keyBytes);
    expect(wrapped.length).toBe(40);
    expect(await hsm.unwrapKey(key.handle, kw, wrapped)).toEqual(keyBytes);
    const tampered = Buffer.from(wrapped);
    tampered[5] = tampered[5]! ^ 1;
    const error = await hsm.unwrapKey(key.handle, kw, tampered).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HsmDecryptionFailed);
  });

  it('refuses a bad iv, a missing or short tag, a partial block and another size’s algorithm with a 400', async () => {
    const cases: [Promise<unknown>, RegExp][] = [
      [hsm.encrypt(key.handle, { algorithm: gcm, iv: randomBytes(8) }, Buffer.from('x')), /^The iv of A\d+GCM is 12 bytes, not 8\.$/],
      [
        hsm.decrypt(key.handle, { algorithm: gcm, iv: randomBytes(12), tag: randomBytes(8) }, Buffer.from('x')),
        /^The authentication tag of A\d+GCM is 16 bytes, not 8\.$/,
      ],
      [hsm.encrypt(key.handle, { algorithm: cbc, iv: randomBytes(12) }, randomBytes(16)), /^The iv of A\d+CBC is 16 bytes, not 12\.$/],
      [hsm.encrypt(key.handle, { algorithm: cbc, iv: randomBytes(16) }, randomBytes(15)), /must be a non-empty multiple of 16 bytes, not 15\.$/],
      [hsm.wrapKey(key.handle, kw, randomBytes(12)), /must be a multiple of 8 bytes and at least 16 bytes/],
      [
        hsm.encrypt(key.handle, { algorithm: size === 128 ? 'A256GCM' : 'A128GCM', iv: randomBytes(12) }, Buffer.from('x')),
        /needs a \d+-bit key; this key has \d+ bits\.$/,
      ],
      [hsm.encrypt(key.handle, { algorithm: 'RSA-OAEP' }, Buffer.from('x')), /^Keys of type 'oct' take /],
      [hsm.signDigest(key.handle, 'RS256', Buffer.alloc(32)), /^Keys of type 'oct' do not sign/],
    ];
    for (const [attempt, message] of cases) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadParameter);
      expect((error as BadParameter).status).toBe(400);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('AES interop with node:crypto, both ways, on a key both hold', () => {
  // An HSM key's material cannot be read (that is the point): node:crypto checks the HSM with a key
  // the test put into the token as a pool key (test/support/softhsm.ts, putKnownKey).
  const known = randomBytes(32);
  let handle: string;

  beforeAll(() => {
    handle = putKnownKey(token, known);
  });

  it('A256GCM: node:crypto decrypts the HSM, the HSM decrypts node:crypto', async () => {
    const iv = randomBytes(12);
    const aad = Buffer.from('additional');
    const plaintext = Buffer.from('GCM across both implementations');
    const { ciphertext, tag } = await hsm.encrypt(handle, { algorithm: 'A256GCM', iv, additionalData: aad }, plaintext);
    const decipher = createDecipheriv('aes-256-gcm', known, iv).setAAD(aad).setAuthTag(tag!);
    expect(Buffer.concat([decipher.update(ciphertext), decipher.final()])).toEqual(plaintext);

    const cipher = createCipheriv('aes-256-gcm', known, iv).setAAD(aad);
    const nodeCiphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    expect(nodeCiphertext).toEqual(ciphertext);
    expect(await hsm.decrypt(handle, { algorithm: 'A256GCM', iv, additionalData: aad, tag: cipher.getAuthTag() }, nodeCiphertext)).toEqual(plaintext);
  });

  it('A256KW: node:crypto unwraps the HSM, the HSM unwraps node:crypto (RFC 3394 default iv)', async () => {
    const keyBytes = randomBytes(24);
    const wrapped = await hsm.wrapKey(handle, 'A256KW', keyBytes);
    const unwrap = createDecipheriv('id-aes256-wrap', known, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    expect(Buffer.concat([unwrap.update(wrapped), unwrap.final()])).toEqual(keyBytes);
    const wrap = createCipheriv('id-aes256-wrap', known, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    const nodeWrapped = Buffer.concat([wrap.update(keyBytes), wrap.final()]);
    expect(await hsm.unwrapKey(handle, 'A256KW', nodeWrapped)).toEqual(keyBytes);
  });

  it('A256CBC and A256CBCPAD: node:crypto decrypts the HSM, the HSM decrypts node:crypto', async () => {
    const iv = randomBytes(16);
    const blocks = randomBytes(48);
    const raw = await hsm.encrypt(handle, { algorithm: 'A256CBC', iv }, blocks);
    const decipher = createDecipheriv('aes-256-cbc', known, iv).setAutoPadding(false);
    expect(Buffer.concat([decipher.update(raw.ciphertext), decipher.final()])).toEqual(blocks);
    const text = Buffer.from('padded with PKCS#7 by both');
    const padded = await hsm.encrypt(handle, { algorithm: 'A256CBCPAD', iv }, text);
    const nodePadded = (() => {
      const cipher = createCipheriv('aes-256-cbc', known, iv);
      return Buffer.concat([cipher.update(text), cipher.final()]);
    })();
    expect(padded.ciphertext).toEqual(nodePadded);
    expect(await hsm.decrypt(handle, { algorithm: 'A256CBCPAD', iv }, nodePadded)).toEqual(text);
    const nodeRaw = createCipheriv('aes-256-cbc', known, iv).setAutoPadding(false);
    expect(await hsm.decrypt(handle, { algorithm: 'A256CBC', iv }, Buffer.concat([nodeRaw.update(blocks), nodeRaw.final()]))).toEqual(blocks);
  });
});

describe('random bytes', () => {
  it('come from the HSM, as many as asked, different each time; 0 or more than 128 is a 400', async () => {
    const first = await hsm.randomBytes(32);
    const second = await hsm.randomBytes(32);
    expect(first.length).toBe(32);
    expect(first.equals(second)).toBe(false);
    expect((await hsm.randomBytes(128)).length).toBe(128);
    for (const count of [0, 129, 1.5]) {
      const error = await hsm.randomBytes(count).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadParameter);
    }
  });
});

describe('RSA and EC interop with node:crypto, both ways, on keys both hold', () => {
  it('RSA: the HSM verifies node:crypto’s RS/PS signatures, and node:crypto decrypts the HSM’s RSA-OAEP and RSA1_5', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const handle = putKnownKey(token, privateKey.export({ format: 'jwk' }));
    const message = Buffer.from('signed by node:crypto');
    for (const algorithm of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
      const hash = hashOf(algorithm);
      const signature = sign(hash, message, nodeOptions(algorithm, privateKey));
      const digest = createHash(hash).update(message).digest();
      expect(await hsm.verifyDigest(handle, algorithm, digest, signature)).toBe(true);
      expect(await hsm.verifyDigest(handle, algorithm, createHash(hash).update('other').digest(), signature)).toBe(false);
      expect(verify(hash, message, nodeOptions(algorithm, publicKey), await hsm.signDigest(handle, algorithm, digest))).toBe(true);
    }
    const secret = randomBytes(32);
    const oaep = await hsm.encrypt(handle, { algorithm: 'RSA-OAEP' }, secret);
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, oaep.ciphertext)).toEqual(secret);
    const wrapped = await hsm.wrapKey(handle, 'RSA-OAEP', secret);
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped)).toEqual(secret);
    // node:crypto refuses PKCS#1 v1.5 decryption since the Marvin attack; the HSM's RSA1_5 ciphertext is
    // checked by the HSM's own decryption of it and by the raw RSA of node:crypto: the padded block.
    const pkcs1 = await hsm.encrypt(handle, { algorithm: 'RSA1_5' }, secret);
    const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, pkcs1.ciphertext);
    expect(block.subarray(0, 2)).toEqual(Buffer.from([0, 2]));
    expect(block.subarray(block.length - 33)).toEqual(Buffer.concat([Buffer.from([0]), secret]));
    expect(block.subarray(2, block.length - 33).includes(0)).toBe(false);
  });

  it.each([
    ['ES256', 'prime256v1'],
    ['ES384', 'secp384r1'],
    ['ES512', 'secp521r1'],
    ['ES256K', 'secp256k1'],
  ] as const)('%s: the HSM verifies node:crypto’s signature and node:crypto verifies the HSM’s', async (algorithm, namedCurve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const handle = putKnownKey(token, privateKey.export({ format: 'jwk' }));
    const hash = hashOf(algorithm);
    const message = Buffer.from(`signed on ${namedCurve}`);
    const digest = createHash(hash).update(message).digest();
    const nodeSignature = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(await hsm.verifyDigest(handle, algorithm, digest, nodeSignature)).toBe(true);
    expect(await hsm.verifyDigest(handle, algorithm, createHash(hash).update('other').digest(), nodeSignature)).toBe(false);
    expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, await hsm.signDigest(handle, algorithm, digest))).toBe(true);
  });
});
