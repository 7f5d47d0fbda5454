/**
 * lib/crypto/rsa-digest.ts, shared by Key Vault's software keys and the local KMS's DIGEST messages,
 * held to node:crypto's own RSA signatures over the message. Odd modulus sizes reach the EMSA-PSS
 * corners that 2048/3072/4096-bit keys never do: a 1025-bit modulus has emBits a multiple of 8 (so
 * EM is one byte shorter than the modulus), a 2047-bit one masks all but the top bit of EM's first byte.
 */
import { constants, createHash, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type RsaDigestHash, type RsaDigestScheme, signRsaDigest, verifyRsaDigest } from '../../lib/crypto/rsa-digest.ts';
import { BadParameter } from '../../lib/core/errors.ts';

const message = Buffer.from('the quick brown fox jumps over the lazy dog');
const HASHES: RsaDigestHash[] = ['sha256', 'sha384', 'sha512'];
const SCHEMES: RsaDigestScheme[] = ['pkcs1', 'pss'];

const keys = new Map<number, { privateKey: KeyObject; publicKey: KeyObject }>(
  [1025, 2047, 2048].map((modulusLength) => [modulusLength, generateKeyPairSync('rsa', { modulusLength })]),
);

function key(bits: number) {
  const pair = keys.get(bits)!;
  expect(pair.publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
  return pair;
}

function digestOf(hash: RsaDigestHash, data: Buffer = message): Buffer {
  return createHash(hash).update(data).digest();
}

function nodeOptions(key: KeyObject, scheme: RsaDigestScheme, hash: RsaDigestHash) {
  return scheme === 'pss'
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digestOf(hash).length }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

function flipBit(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

const CASES = [1025, 2047, 2048].flatMap((bits) =>
  SCHEMES.flatMap((scheme) =>
    HASHES
      // EMSA-PSS needs emLen >= 2·hLen + 2: 130 bytes for SHA-512, which a 1025-bit key (128) lacks.
      .filter((hash) => !(bits === 1025 && scheme === 'pss' && hash === 'sha512'))
      .map((hash) => ({ bits, scheme, hash })),
  ),
);

describe('RSA signatures over a digest', () => {
  it.each(CASES)('$bits-bit $scheme $hash: ours verify with node:crypto and node’s verify with ours', ({ bits, scheme, hash }) => {
    const { privateKey, publicKey } = key(bits);
    const digest = digestOf(hash);
    for (let i = 0; i < 4; i++) {
      const ours = signRsaDigest(privateKey, scheme, hash, digest);
      expect(ours.length).toBe(Math.ceil(bits / 8));
      expect(verify(hash, message, nodeOptions(publicKey, scheme, hash), ours)).toBe(true);
      expect(verifyRsaDigest(publicKey, scheme, hash, digest, ours)).toBe(true);

      const theirs = sign(hash, message, nodeOptions(privateKey, scheme, hash));
      expect(verifyRsaDigest(publicKey, scheme, hash, digest, theirs)).toBe(true);
      expect(verifyRsaDigest(publicKey, scheme, hash, digestOf(hash, Buffer.from('another message')), theirs)).toBe(false);
      expect(verifyRsaDigest(publicKey, scheme, hash, digest, flipBit(theirs, theirs.length - 1))).toBe(false);
      expect(verifyRsaDigest(publicKey, scheme, hash, digest, flipBit(ours, 7))).toBe(false);
    }
  });

  it('PKCS#1 v1.5 signatures are deterministic, PSS ones are salted', () => {
    const { privateKey } = key(2048);
    const digest = digestOf('sha256');
    expect(signRsaDigest(privateKey, 'pkcs1', 'sha256', digest)).toEqual(signRsaDigest(privateKey, 'pkcs1', 'sha256', digest));
    expect(signRsaDigest(privateKey, 'pss', 'sha256', digest)).not.toEqual(signRsaDigest(privateKey, 'pss', 'sha256', digest));
  });

  it('a signature holds only for its own scheme, salt length and key', () => {
    const { privateKey, publicKey } = key(2048);
    const digest = digestOf('sha256');
    const pkcs1 = signRsaDigest(privateKey, 'pkcs1', 'sha256', digest);
    const pss = signRsaDigest(privateKey, 'pss', 'sha256', digest);
    expect(verifyRsaDigest(publicKey, 'pss', 'sha256', digest, pkcs1)).toBe(false);
    expect(verifyRsaDigest(publicKey, 'pkcs1', 'sha256', digest, pss)).toBe(false);
    // Key Vault and KMS both fix the PSS salt at the digest length; a maximum-length salt is another signature.
    const maxSalt = sign('sha256', message, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
    expect(verifyRsaDigest(publicKey, 'pss', 'sha256', digest, maxSalt)).toBe(false);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(verifyRsaDigest(other.publicKey, 'pkcs1', 'sha256', digest, pkcs1)).toBe(false);
    expect(verifyRsaDigest(other.publicKey, 'pss', 'sha256', digest, pss)).toBe(false);
  });

  it.each(SCHEMES)('%s: false, not an error, for signatures of the wrong length or out of range', (scheme) => {
    const { privateKey, publicKey } = key(2048);
    const digest = digestOf('sha256');
    const good = signRsaDigest(privateKey, scheme, 'sha256', digest);
    for (const bad of [
      good.subarray(1),
      Buffer.concat([Buffer.alloc(1), good]),
      Buffer.alloc(0),
      Buffer.alloc(256, 0xff), // >= n
      Buffer.alloc(256),
    ]) {
      expect(verifyRsaDigest(publicKey, scheme, 'sha256', digest, bad)).toBe(false);
    }
  });

  it('refuses a key too small for PSS with the hash, as node:crypto does', () => {
    const { privateKey, publicKey } = key(1025);
    const digest = digestOf('sha512');
    expect(() => signRsaDigest(privateKey, 'pss', 'sha512', digest)).toThrow(BadParameter);
    expect(() => sign('sha512', message, nodeOptions(privateKey, 'pss', 'sha512'))).toThrow();
    expect(verifyRsaDigest(publicKey, 'pss', 'sha512', digest, Buffer.alloc(129, 1))).toBe(false);
  });

  it('throws on a digest whose length does not fit the hash, or a key that is not RSA', () => {
    const { privateKey, publicKey } = key(2048);
    const digest = digestOf('sha256');
    const good = signRsaDigest(privateKey, 'pss', 'sha256', digest);
    for (const scheme of SCHEMES) {
      expect(() => signRsaDigest(privateKey, scheme, 'sha384', digest)).toThrow(/digest/);
      expect(() => verifyRsaDigest(publicKey, scheme, 'sha384', digest, good)).toThrow(/digest/);
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => signRsaDigest(ec.privateKey, 'pkcs1', 'sha256', digest)).toThrow(/RSA/);
    expect(() => verifyRsaDigest(ec.publicKey, 'pss', 'sha256', digest, good)).toThrow(/RSA/);
  });
});
