/**
 * Software keys held to node:crypto: whatever one side signs or encrypts, the other must verify or
 * decrypt. node:crypto hashes messages itself, so the digest handed to lib/keys is hash(message).
 * Each RSA size is generated once for the whole file.
 */
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import type { Curve, EncryptionAlgorithm, SignatureAlgorithm } from '../../lib/keys/algorithms.ts';
import {
  type GeneratedKey,
  generateSoftwareKey,
  importJwk,
  privateKeyObject,
  publicJwkFromSpki,
  publicKeyObject,
  rsaKeySize,
} from '../../lib/keys/jwk.ts';
import { decrypt, encrypt, maxPlaintextBytes, signDigest, verifyDigest } from '../../lib/keys/software.ts';

const RSA_SIZES = [2048, 3072, 4096] as const;
const EC: { curve: Curve; alg: SignatureAlgorithm; openssl: string; hash: string; sigLength: number }[] = [
  { curve: 'P-256', alg: 'ES256', openssl: 'prime256v1', hash: 'sha256', sigLength: 64 },
  { curve: 'P-256K', alg: 'ES256K', openssl: 'secp256k1', hash: 'sha256', sigLength: 64 },
  { curve: 'P-384', alg: 'ES384', openssl: 'secp384r1', hash: 'sha384', sigLength: 96 },
  { curve: 'P-521', alg: 'ES512', openssl: 'secp521r1', hash: 'sha512', sigLength: 132 },
];
const RSA_SIGNATURES: { alg: SignatureAlgorithm; hash: string; pss: boolean }[] = [
  { alg: 'RS256', hash: 'sha256', pss: false },
  { alg: 'RS384', hash: 'sha384', pss: false },
  { alg: 'RS512', hash: 'sha512', pss: false },
  { alg: 'PS256', hash: 'sha256', pss: true },
  { alg: 'PS384', hash: 'sha384', pss: true },
  { alg: 'PS512', hash: 'sha512', pss: true },
];
const ENCRYPTIONS: { alg: EncryptionAlgorithm; node: { padding: number; oaepHash?: string } }[] = [
  { alg: 'RSA-OAEP', node: { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } },
  { alg: 'RSA-OAEP-256', node: { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } },
  { alg: 'RSA1_5', node: { padding: constants.RSA_PKCS1_PADDING } },
];

interface Fixture {
  key: GeneratedKey;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const ORDER: Record<Curve, bigint> = {
  'P-256': p256.Point.CURVE().n,
  'P-256K': secp256k1.Point.CURVE().n,
  'P-384': p384.Point.CURVE().n,
  'P-521': p521.Point.CURVE().n,
};

const rsa = new Map<number, Fixture>();
const ec = new Map<Curve, Fixture>();
const message = Buffer.from('the quick brown fox jumps over the lazy dog');

function fixture(key: GeneratedKey): Fixture {
  return { key, privateKey: privateKeyObject(key.privatePkcs8), publicKey: publicKeyObject(key.publicJwk) };
}

function digestOf(hash: string, data: Buffer = message): Buffer {
  return createHash(hash).update(data).digest();
}

function flipBit(bytes: Uint8Array, index = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

function nodeRsaOptions(key: KeyObject, pss: boolean, hash: string) {
  return pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digestOf(hash).length } : { key, padding: constants.RSA_PKCS1_PADDING };
}

/** Azure names secp256k1 'P-256K'; node:crypto's JWK export says 'secp256k1'. */
function toAzureJwk(jwk: JsonWebKey): Record<string, unknown> {
  return { ...jwk, ...(jwk.crv === 'secp256k1' ? { crv: 'P-256K' } : {}) };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  const [rsaKeys, ecKeys] = await Promise.all([
    Promise.all(RSA_SIZES.map((keySize) => generateSoftwareKey({ kind: 'RSA', keySize }))),
    Promise.all(EC.map(({ curve }) => generateSoftwareKey({ kind: 'EC', curve }))),
  ]);
  for (const [i, size] of RSA_SIZES.entries()) rsa.set(size, fixture(rsaKeys[i]!));
  for (const [i, { curve }] of EC.entries()) ec.set(curve, fixture(ecKeys[i]!));
});

describe('generateSoftwareKey', () => {
  it('generates the requested RSA sizes with exponent 65537', () => {
    for (const size of RSA_SIZES) {
      const { key, privateKey } = rsa.get(size)!;
      expect(key.keySize).toBe(size);
      expect(key.curve).toBeUndefined();
      expect(key.publicJwk).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB' });
      expect(rsaKeySize(key.publicJwk)).toBe(size);
      expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(size);
    }
  });

  it('generates every curve, with Azure curve names', () => {
    for (const { curve } of EC) {
      const { key } = ec.get(curve)!;
      expect(key.curve).toBe(curve);
      expect(key.keySize).toBeUndefined();
      expect(key.publicJwk).toEqual({ kty: 'EC', crv: curve, x: expect.any(String), y: expect.any(String) });
      expect(Object.hasOwn(key.publicJwk, 'd')).toBe(false);
    }
  });

  it('defaults to P-256 for EC', async () => {
    expect((await generateSoftwareKey({ kind: 'EC' })).curve).toBe('P-256');
  });

  it('rejects unsupported sizes, curves and exponents before generating anything', async () => {
    for (const keySize of [1024, 2047, 8192, 0]) await expect(generateSoftwareKey({ kind: 'RSA', keySize })).rejects.toBeInstanceOf(BadParameter);
    await expect(generateSoftwareKey({ kind: 'EC', curve: 'P-192' as Curve })).rejects.toBeInstanceOf(BadParameter);
    for (const publicExponent of [1, 2, 65536, 2 ** 32 + 1, 2 ** 32, -3, 3.5]) {
      await expect(generateSoftwareKey({ kind: 'RSA', publicExponent })).rejects.toBeInstanceOf(BadParameter);
    }
  });
});

describe('publicJwkFromSpki', () => {
  it('gives back the key’s own public JWK, and the RSA size', () => {
    for (const size of RSA_SIZES) {
      const { key, publicKey } = rsa.get(size)!;
      expect(publicJwkFromSpki(publicKey.export({ type: 'spki', format: 'der' }))).toEqual({ ...key.publicJwk, keySize: size });
    }
    for (const { curve } of EC) {
      const { key, publicKey } = ec.get(curve)!;
      expect(publicJwkFromSpki(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })))).toEqual(key.publicJwk);
    }
  });

  it('rejects what is not an SPKI or not a supported key', () => {
    expect(() => publicJwkFromSpki(Buffer.from('not der'))).toThrow(BadParameter);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    expect(() => publicJwkFromSpki(ed)).toThrow(BadParameter);
  });
});

describe('RSA signatures over a digest', () => {
  for (const size of RSA_SIZES) {
    describe(`${size} bits`, () => {
      it.each(RSA_SIGNATURES)('$alg: ours verify with node:crypto and node’s verify with ours', ({ alg, hash, pss }) => {
        const { key, privateKey, publicKey } = rsa.get(size)!;
        const digest = digestOf(hash);

        const ours = signDigest(key.privatePkcs8, 'RSA', undefined, alg, digest);
        expect(ours.length).toBe(size / 8);
        expect(verify(hash, message, nodeRsaOptions(publicKey, pss, hash), ours)).toBe(true);
        expect(verifyDigest(key.publicJwk, alg, digest, ours)).toBe(true);

        const theirs = sign(hash, message, nodeRsaOptions(privateKey, pss, hash));
        expect(verifyDigest(key.publicJwk, alg, digest, theirs)).toBe(true);

        expect(verifyDigest(key.publicJwk, alg, digest, flipBit(theirs, theirs.length - 1))).toBe(false);
        expect(verifyDigest(key.publicJwk, alg, digest, flipBit(ours, 7))).toBe(false);
        expect(verifyDigest(key.publicJwk, alg, flipBit(digest), ours)).toBe(false);
        expect(verify(hash, Buffer.concat([message, Buffer.from('!')]), nodeRsaOptions(publicKey, pss, hash), ours)).toBe(false);
      });
    });
  }

  it('PKCS#1 v1.5 signatures are deterministic, PSS ones are salted', () => {
    const { key } = rsa.get(2048)!;
    const digest = digestOf('sha256');
    expect(signDigest(key.privatePkcs8, 'RSA', undefined, 'RS256', digest)).toEqual(signDigest(key.privatePkcs8, 'RSA', undefined, 'RS256', digest));
    expect(signDigest(key.privatePkcs8, 'RSA', undefined, 'PS256', digest)).not.toEqual(
      signDigest(key.privatePkcs8, 'RSA', undefined, 'PS256', digest),
    );
  });

  it('returns false, not an error, for signatures of the wrong length or out of range', () => {
    const { key } = rsa.get(2048)!;
    const digest = digestOf('sha256');
    const good = signDigest(key.privatePkcs8, 'RSA', undefined, 'PS256', digest);
    for (const alg of ['RS256', 'PS256'] as const) {
      expect(verifyDigest(key.publicJwk, alg, digest, good.subarray(1))).toBe(false);
      expect(verifyDigest(key.publicJwk, alg, digest, Buffer.concat([Buffer.alloc(1), good]))).toBe(false);
      expect(verifyDigest(key.publicJwk, alg, digest, Buffer.alloc(0))).toBe(false);
      expect(verifyDigest(key.publicJwk, alg, digest, Buffer.alloc(256, 0xff))).toBe(false); // >= n
      expect(verifyDigest(key.publicJwk, alg, digest, Buffer.alloc(256))).toBe(false);
    }
  });

  it('does not confuse the schemes or the salt length', () => {
    const { key, privateKey } = rsa.get(2048)!;
    const digest = digestOf('sha256');
    const pkcs1 = signDigest(key.privatePkcs8, 'RSA', undefined, 'RS256', digest);
    const pss = signDigest(key.privatePkcs8, 'RSA', undefined, 'PS256', digest);
    expect(verifyDigest(key.publicJwk, 'PS256', digest, pkcs1)).toBe(false);
    expect(verifyDigest(key.publicJwk, 'RS256', digest, pss)).toBe(false);
    // Azure's PSS uses salt length = digest length; a maximum-length salt is a different signature.
    const maxSalt = sign('sha256', message, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
    expect(verifyDigest(key.publicJwk, 'PS256', digest, maxSalt)).toBe(false);
  });
});

describe('ECDSA signatures over a digest', () => {
  it.each(EC)('$alg on $curve: ours verify with node:crypto and node’s verify with ours', ({ curve, alg, hash, sigLength }) => {
    const { key, privateKey, publicKey } = ec.get(curve)!;
    const digest = digestOf(hash);
    for (let i = 0; i < 3; i++) {
      const ours = signDigest(key.privatePkcs8, 'EC', curve, alg, digest);
      expect(ours.length).toBe(sigLength);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours)).toBe(true);
      expect(verifyDigest(key.publicJwk, alg, digest, ours)).toBe(true);

      const theirs = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(verifyDigest(key.publicJwk, alg, digest, theirs)).toBe(true);
      expect(verifyDigest(key.publicJwk, alg, digest, flipBit(theirs, sigLength - 1))).toBe(false);
      expect(verifyDigest(key.publicJwk, alg, digest, flipBit(theirs, 1))).toBe(false);
      expect(verifyDigest(key.publicJwk, alg, flipBit(digest, 5), theirs)).toBe(false);
      expect(verify(hash, flipBit(message), { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours)).toBe(false);
    }
  });

  it.each(EC)('$alg: both S halves (low-S and high-S) verify on both sides', ({ curve, alg, hash, sigLength }) => {
    const { key, privateKey, publicKey } = ec.get(curve)!;
    const digest = digestOf(hash);
    const half = sigLength / 2;
    // (r, s) and (r, n - s) are both valid; OpenSSL emits either, noble emits the low one.
    const mirror = (signature: Buffer) => {
      const s = BigInt(`0x${signature.subarray(half).toString('hex')}`);
      return Buffer.concat([signature.subarray(0, half), Buffer.from((ORDER[curve] - s).toString(16).padStart(2 * half, '0'), 'hex')]);
    };
    const ours = signDigest(key.privatePkcs8, 'EC', curve, alg, digest);
    expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, mirror(ours))).toBe(true);
    const theirs = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verifyDigest(key.publicJwk, alg, digest, theirs)).toBe(true);
    expect(verifyDigest(key.publicJwk, alg, digest, mirror(theirs))).toBe(true);
  });

  it.each(EC)('$alg: false for wrong-length, zero or out-of-range signatures', ({ curve, alg, hash, sigLength }) => {
    const { key, privateKey } = ec.get(curve)!;
    const digest = digestOf(hash);
    const good = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const der = sign(hash, message, { key: privateKey, dsaEncoding: 'der' });
    expect(verifyDigest(key.publicJwk, alg, digest, good.subarray(1))).toBe(false);
    expect(verifyDigest(key.publicJwk, alg, digest, Buffer.concat([good, Buffer.alloc(1)]))).toBe(false);
    expect(verifyDigest(key.publicJwk, alg, digest, der)).toBe(false);
    expect(verifyDigest(key.publicJwk, alg, digest, Buffer.alloc(sigLength))).toBe(false);
    expect(verifyDigest(key.publicJwk, alg, digest, Buffer.alloc(sigLength, 0xff))).toBe(false);
  });

  it('a signature verifies only under its own key', () => {
    const a = ec.get('P-256')!;
    const b = importJwk(toAzureJwk(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' })));
    const digest = digestOf('sha256');
    expect(verifyDigest(b.publicJwk, 'ES256', digest, signDigest(a.key.privatePkcs8, 'EC', 'P-256', 'ES256', digest))).toBe(false);
  });
});

describe('sign/verify input checks', () => {
  it('rejects a digest of the wrong length', () => {
    const { key } = rsa.get(2048)!;
    const p384 = ec.get('P-384')!;
    expect(() => signDigest(key.privatePkcs8, 'RSA', undefined, 'RS256', digestOf('sha384'))).toThrow(BadParameter);
    expect(() => signDigest(key.privatePkcs8, 'RSA', undefined, 'PS512', digestOf('sha256'))).toThrow(BadParameter);
    expect(() => signDigest(p384.key.privatePkcs8, 'EC', 'P-384', 'ES384', message)).toThrow(BadParameter);
    expect(() => verifyDigest(key.publicJwk, 'RS256', Buffer.alloc(20), Buffer.alloc(256))).toThrow(BadParameter);
    expect(() => verifyDigest(p384.key.publicJwk, 'ES384', Buffer.alloc(32), Buffer.alloc(96))).toThrow(BadParameter);
  });

  it('rejects an algorithm that does not suit the key', () => {
    const { key } = rsa.get(2048)!;
    const p256 = ec.get('P-256')!;
    const p256k = ec.get('P-256K')!;
    const d32 = digestOf('sha256');
    expect(() => signDigest(key.privatePkcs8, 'RSA', undefined, 'ES256', d32)).toThrow(BadParameter);
    expect(() => signDigest(p256.key.privatePkcs8, 'EC', 'P-256', 'RS256', d32)).toThrow(BadParameter);
    expect(() => signDigest(p256.key.privatePkcs8, 'EC', 'P-256', 'ES256K', d32)).toThrow(BadParameter);
    expect(() => signDigest(p256k.key.privatePkcs8, 'EC', 'P-256K', 'ES256', d32)).toThrow(BadParameter);
    expect(() => signDigest(p256.key.privatePkcs8, 'EC', 'P-256', 'ES384', digestOf('sha384'))).toThrow(
      new BadParameter("Algorithm 'ES384' is not supported for key of type 'EC' with curve 'P-256'."),
    );
    expect(() => verifyDigest(key.publicJwk, 'ES256', d32, Buffer.alloc(64))).toThrow(BadParameter);
    expect(() => verifyDigest(p256.key.publicJwk, 'PS256', d32, Buffer.alloc(256))).toThrow(BadParameter);
    expect(() => verifyDigest(p256.key.publicJwk, 'ES256K', d32, Buffer.alloc(64))).toThrow(BadParameter);
  });

  it('refuses key material that is not what the caller says it is', () => {
    const { key } = rsa.get(2048)!;
    const p256 = ec.get('P-256')!;
    expect(() => signDigest(key.privatePkcs8, 'EC', 'P-256', 'ES256', digestOf('sha256'))).toThrow();
    expect(() => signDigest(p256.key.privatePkcs8, 'EC', 'P-384', 'ES384', digestOf('sha384'))).toThrow();
  });
});

describe('RSA encryption', () => {
  it('computes the plaintext limits', () => {
    expect(maxPlaintextBytes(2048, 'RSA-OAEP')).toBe(214);
    expect(maxPlaintextBytes(2048, 'RSA-OAEP-256')).toBe(190);
    expect(maxPlaintextBytes(2048, 'RSA1_5')).toBe(245);
    expect(maxPlaintextBytes(3072, 'RSA-OAEP-256')).toBe(318);
    expect(maxPlaintextBytes(4096, 'RSA-OAEP')).toBe(470);
    expect(maxPlaintextBytes(4096, 'RSA1_5')).toBe(501);
  });

  for (const size of RSA_SIZES) {
    describe(`${size} bits`, () => {
      it.each(ENCRYPTIONS)('$alg: node encrypts, we decrypt; we encrypt, node decrypts', ({ alg, node }) => {
        const { key, privateKey } = rsa.get(size)!;
        const limit = maxPlaintextBytes(size, alg);
        for (const plaintext of [randomBytes(32), randomBytes(limit), Buffer.from('x')]) {
          const fromNode = publicEncrypt({ key: publicKeyObject(key.publicJwk), ...node }, plaintext);
          expect(decrypt(key.privatePkcs8, alg, fromNode)).toEqual(plaintext);

          const ours = encrypt(key.publicJwk, alg, plaintext);
          expect(ours.length).toBe(size / 8);
          expect(privateDecrypt({ key: privateKey, ...node }, ours)).toEqual(plaintext);
          expect(decrypt(key.privatePkcs8, alg, ours)).toEqual(plaintext);
        }
        expect(() => encrypt(key.publicJwk, alg, randomBytes(limit + 1))).toThrow(BadParameter);
      });
    });
  }

  it('encrypts an empty plaintext with OAEP', () => {
    const { key } = rsa.get(2048)!;
    expect(decrypt(key.privatePkcs8, 'RSA-OAEP-256', encrypt(key.publicJwk, 'RSA-OAEP-256', Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('rejects a tampered or mismatched OAEP ciphertext with one generic message', () => {
    const { key } = rsa.get(2048)!;
    const plaintext = Buffer.from('a 256-bit data encryption key...');
    const oaep = encrypt(key.publicJwk, 'RSA-OAEP', plaintext);
    const oaep256 = encrypt(key.publicJwk, 'RSA-OAEP-256', plaintext);
    const messages = new Set<string>();
    for (const [alg, ciphertext] of [
      ['RSA-OAEP', flipBit(oaep, 100)],
      ['RSA-OAEP-256', flipBit(oaep256, 0)],
      ['RSA-OAEP', oaep256],
      ['RSA-OAEP-256', oaep],
    ] as const) {
      const error = thrown(() => decrypt(key.privatePkcs8, alg, ciphertext));
      expect(error).toBeInstanceOf(BadParameter);
      messages.add(error.message);
    }
    expect([...messages]).toEqual(['The ciphertext could not be decrypted with this key and algorithm.']);
  });

  it('RSA1_5 decryption does implicit rejection: bad padding yields a stable random-looking result, not an error', () => {
    const { key } = rsa.get(2048)!;
    const plaintext = Buffer.from('secret');
    const tampered = flipBit(encrypt(key.publicJwk, 'RSA1_5', plaintext), 10);
    const first = decrypt(key.privatePkcs8, 'RSA1_5', tampered);
    expect(first).not.toEqual(plaintext);
    expect(decrypt(key.privatePkcs8, 'RSA1_5', tampered)).toEqual(first);
    // An OAEP ciphertext is not PKCS#1 v1.5 either.
    expect(() => decrypt(key.privatePkcs8, 'RSA1_5', encrypt(key.publicJwk, 'RSA-OAEP', plaintext))).not.toThrow();
  });

  it('rejects ciphertexts of the wrong length, and values >= n, as BadParameter', () => {
    const { key } = rsa.get(3072)!;
    const ciphertext = encrypt(key.publicJwk, 'RSA-OAEP-256', Buffer.from('hello'));
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const) {
      expect(() => decrypt(key.privatePkcs8, alg, ciphertext.subarray(1))).toThrow(BadParameter);
      expect(() => decrypt(key.privatePkcs8, alg, Buffer.concat([ciphertext, Buffer.alloc(1)]))).toThrow(BadParameter);
      expect(() => decrypt(key.privatePkcs8, alg, Buffer.alloc(0))).toThrow(BadParameter);
      expect(() => decrypt(key.privatePkcs8, alg, Buffer.alloc(384, 0xff))).toThrow(BadParameter);
    }
  });

  it('refuses encryption with EC keys', () => {
    const p256 = ec.get('P-256')!;
    expect(() => encrypt(p256.key.publicJwk, 'RSA-OAEP', Buffer.from('x'))).toThrow(BadParameter);
    expect(() => decrypt(p256.key.privatePkcs8, 'RSA-OAEP', Buffer.alloc(64))).toThrow(BadParameter);
  });

  it('never puts the plaintext in an error', () => {
    const { key } = rsa.get(2048)!;
    const plaintext = Buffer.from('PLAINTEXT-MARKER-'.repeat(20));
    const error = thrown(() => encrypt(key.publicJwk, 'RSA-OAEP-256', plaintext));
    expect(error).toBeInstanceOf(BadParameter);
    expect(error.message).not.toContain('PLAINTEXT-MARKER');
  });
});

describe('importJwk', () => {
  function rsaJwk(): Record<string, unknown> {
    return toAzureJwk(rsa.get(2048)!.privateKey.export({ format: 'jwk' }));
  }

  it('round-trips an RSA key exported by node:crypto: import, sign, verify', () => {
    const { key, publicKey } = rsa.get(2048)!;
    for (const kty of ['RSA', 'RSA-HSM']) {
      const imported = importJwk({ ...rsaJwk(), kty, key_ops: ['sign'] });
      expect(imported.kind).toBe('RSA');
      expect(imported.keySize).toBe(2048);
      expect(imported.publicJwk).toEqual(key.publicJwk);
      const digest = digestOf('sha384');
      const signature = signDigest(imported.privatePkcs8, 'RSA', undefined, 'PS384', digest);
      expect(verify('sha384', message, nodeRsaOptions(publicKey, true, 'sha384'), signature)).toBe(true);
      expect(verifyDigest(imported.publicJwk, 'PS384', digest, signature)).toBe(true);
    }
  });

  it.each(EC)('round-trips an EC $curve key exported by node:crypto', ({ curve, alg, openssl, hash }) => {
    const pair = generateKeyPairSync('ec', { namedCurve: openssl });
    const imported = importJwk(toAzureJwk(pair.privateKey.export({ format: 'jwk' })));
    expect(imported.kind).toBe('EC');
    expect(imported.curve).toBe(curve);
    expect(imported.publicJwk).toEqual(toAzureJwk(pair.publicKey.export({ format: 'jwk' })));
    const digest = digestOf(hash);
    const signature = signDigest(imported.privatePkcs8, 'EC', curve, alg, digest);
    expect(verify(hash, message, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(verifyDigest(imported.publicJwk, alg, digest, sign(hash, message, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }))).toBe(true);
    expect(importJwk({ ...toAzureJwk(pair.privateKey.export({ format: 'jwk' })), kty: 'EC-HSM' }).curve).toBe(curve);
  });

  it('accepts node’s secp256k1 name, padded base64url and a leading sign byte on n', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'jwk' });
    expect(importJwk({ ...k1 }).curve).toBe('P-256K');
    const jwk = rsaJwk();
    const n = Buffer.concat([Buffer.alloc(1), Buffer.from(jwk.n as string, 'base64url')]).toString('base64url');
    const e = Buffer.from(jwk.e as string, 'base64url').toString('base64');
    expect(importJwk({ ...jwk, n, e }).publicJwk).toEqual(rsa.get(2048)!.key.publicJwk);
  });

  it('rejects a private key that does not match the public members', () => {
    const jwk = rsaJwk();
    const other = toAzureJwk(rsa.get(3072)!.privateKey.export({ format: 'jwk' }));
    const bump = (value: unknown) => {
      const bytes = Buffer.from(value as string, 'base64url');
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x02;
      return bytes.toString('base64url');
    };
    for (const mutation of [
      { d: bump(jwk.d) },
      { p: bump(jwk.p) },
      { q: other.q },
      { dp: bump(jwk.dp) },
      { dq: bump(jwk.dq) },
      { qi: bump(jwk.qi) },
      { e: 'AQAD' },
      { n: other.n },
      { n: bump(jwk.n) },
    ]) {
      const error = thrown(() => importJwk({ ...jwk, ...mutation }));
      expect(error, JSON.stringify(Object.keys(mutation))).toBeInstanceOf(BadParameter);
      for (const secret of [jwk.d, jwk.p, jwk.q] as string[]) expect(error.message).not.toContain(secret.slice(0, 16));
    }

    const a = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
    const b = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' });
    expect(() => importJwk({ ...a, d: b.d })).toThrow(BadParameter);
    expect(() => importJwk({ ...a, x: b.x, y: b.y })).toThrow(BadParameter);
    expect(() => importJwk({ ...a, y: a.x })).toThrow(BadParameter); // not even on the curve
    expect(() => importJwk({ ...a, d: Buffer.alloc(32).toString('base64url') })).toThrow(BadParameter);
    expect(() => importJwk({ ...a, d: Buffer.alloc(32, 0xff).toString('base64url') })).toThrow(BadParameter); // >= order
  });

  it('rejects bad base64url', () => {
    const jwk = rsaJwk();
    const n = jwk.n as string;
    for (const bad of [
      `${n.slice(0, 10)}+${n.slice(11)}`,
      `${n.slice(0, 10)}/${n.slice(11)}`,
      `${n.slice(0, 10)} ${n.slice(11)}`,
      `${n}A`,
      'A',
      '====',
      42,
      {},
    ]) {
      expect(() => importJwk({ ...jwk, n: bad })).toThrow(BadParameter);
    }
    const a = toAzureJwk(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'jwk' }));
    expect(() => importJwk({ ...a, d: `${a.d}!` })).toThrow(new BadParameter("The key member 'd' is not valid base64url."));
  });

  it('names the missing member', () => {
    const jwk = rsaJwk();
    for (const name of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) {
      const { [name]: _dropped, ...rest } = jwk;
      expect(() => importJwk(rest)).toThrow(new BadParameter(`The key is missing the required member '${name}'.`));
    }
    const ecJwk = toAzureJwk(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey.export({ format: 'jwk' }));
    for (const name of ['crv', 'x', 'y', 'd']) {
      const { [name]: _dropped, ...rest } = ecJwk;
      expect(() => importJwk(rest)).toThrow(new BadParameter(`The key is missing the required member '${name}'.`));
    }
    const { kty: _kty, ...noKty } = ecJwk;
    expect(() => importJwk(noKty)).toThrow(BadParameter);
  });

  it('rejects unsupported key types, curves and sizes', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    expect(() => importJwk({ ...small })).toThrow(new BadParameter('Unsupported RSA key size 1024 bits: expected 2048, 3072, 4096.'));
    const b64 = (n: number) => randomBytes(n).toString('base64url');
    for (const crv of ['P-224', 'P-192', 'Ed25519', 'secp256r2', 'p-256', 42]) {
      expect(() => importJwk({ kty: 'EC', crv, x: b64(28), y: b64(28), d: b64(28) })).toThrow(BadParameter);
    }
    const p256 = toAzureJwk(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' }));
    expect(() => importJwk({ ...p256, crv: 'P-384' })).toThrow(BadParameter);
    expect(() => importJwk({ kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA' })).toThrow(BadParameter);
    expect(() => importJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AA', d: 'AA' })).toThrow(BadParameter);
    expect(() => importJwk({ kty: 'RSA-HSM', key_hsm: 'AAAA' })).toThrow(BadParameter);
    expect(() => importJwk(null as unknown as Record<string, unknown>)).toThrow(BadParameter);
  });

  it('imports a public-only JWK nowhere: d is required', () => {
    expect(() => importJwk({ ...rsa.get(2048)!.key.publicJwk })).toThrow(BadParameter);
    expect(() => importJwk({ ...ec.get('P-256')!.key.publicJwk })).toThrow(BadParameter);
  });
});

describe('publicKeyObject', () => {
  it('builds node keys from Azure JWKs, including P-256K and -HSM kty', () => {
    const k1 = ec.get('P-256K')!;
    expect(publicKeyObject(k1.key.publicJwk).asymmetricKeyDetails?.namedCurve).toBe('secp256k1');
    const hsm = { ...rsa.get(2048)!.key.publicJwk, kty: 'RSA-HSM' } as unknown as Parameters<typeof publicKeyObject>[0];
    expect(publicKeyObject(hsm).equals(createPublicKey(rsa.get(2048)!.privateKey))).toBe(true);
  });

  it('rejects malformed public JWKs', () => {
    const { publicJwk } = ec.get('P-256')!.key;
    expect(() => publicKeyObject({ ...publicJwk, y: publicJwk.x })).toThrow(BadParameter);
    expect(() => publicKeyObject({ ...publicJwk, x: undefined })).toThrow(BadParameter);
    expect(() => publicKeyObject({ kty: 'RSA', e: 'AQAB' })).toThrow(BadParameter);
  });
});
