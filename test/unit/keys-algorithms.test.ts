import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import {
  ALL_KEY_OPS,
  assertDigest,
  assertEncryptionAlgorithm,
  assertSignatureAlgorithm,
  CURVES,
  defaultKeyOps,
  digestLength,
  hashOf,
  isEncryptionAlgorithm,
  isSignatureAlgorithm,
  RSA_KEY_SIZES,
  type SignatureAlgorithm,
} from '../../lib/keys/algorithms.ts';

const SIGNATURES: [SignatureAlgorithm, 'sha256' | 'sha384' | 'sha512', number][] = [
  ['RS256', 'sha256', 32],
  ['RS384', 'sha384', 48],
  ['RS512', 'sha512', 64],
  ['PS256', 'sha256', 32],
  ['PS384', 'sha384', 48],
  ['PS512', 'sha512', 64],
  ['ES256', 'sha256', 32],
  ['ES256K', 'sha256', 32],
  ['ES384', 'sha384', 48],
  ['ES512', 'sha512', 64],
];

describe('algorithm tables', () => {
  it.each(SIGNATURES)('%s hashes with %s into %i bytes', (alg, hash, length) => {
    expect(isSignatureAlgorithm(alg)).toBe(true);
    expect(hashOf(alg)).toBe(hash);
    expect(digestLength(alg)).toBe(length);
  });

  it('recognises exactly the supported names', () => {
    for (const name of ['RSNULL', 'HS256', 'EdDSA', 'es256', 'toString', 'constructor', '']) expect(isSignatureAlgorithm(name)).toBe(false);
    for (const name of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5']) expect(isEncryptionAlgorithm(name)).toBe(true);
    for (const name of ['A256GCM', 'rsa-oaep', 'RSA-OAEP-384', 'CKM_RSA_AES_KEY_WRAP']) expect(isEncryptionAlgorithm(name)).toBe(false);
  });

  it('lists sizes, curves and operations as Azure does', () => {
    expect([...RSA_KEY_SIZES]).toEqual([2048, 3072, 4096]);
    expect([...CURVES]).toEqual(['P-256', 'P-384', 'P-521', 'P-256K']);
    expect([...ALL_KEY_OPS]).toEqual(['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey', 'import', 'export']);
    expect(defaultKeyOps('RSA')).toEqual(['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']);
    expect(defaultKeyOps('EC')).toEqual(['sign', 'verify']);
    // Callers may mutate the default list they get.
    defaultKeyOps('EC').push('encrypt');
    expect(defaultKeyOps('EC')).toEqual(['sign', 'verify']);
  });
});

describe('assertSignatureAlgorithm', () => {
  it('binds each ECDSA algorithm to its one curve', () => {
    expect(assertSignatureAlgorithm('ES256', 'EC', 'P-256')).toBe('ES256');
    expect(assertSignatureAlgorithm('ES256K', 'EC', 'P-256K')).toBe('ES256K');
    expect(assertSignatureAlgorithm('ES384', 'EC', 'P-384')).toBe('ES384');
    expect(assertSignatureAlgorithm('ES512', 'EC', 'P-521')).toBe('ES512');
    expect(() => assertSignatureAlgorithm('ES384', 'EC', 'P-256')).toThrow(
      new BadParameter("Algorithm 'ES384' is not supported for key of type 'EC' with curve 'P-256'."),
    );
    expect(() => assertSignatureAlgorithm('ES256', 'EC', 'P-256K')).toThrow(BadParameter);
    expect(() => assertSignatureAlgorithm('ES256K', 'EC', 'P-256')).toThrow(BadParameter);
    expect(() => assertSignatureAlgorithm('ES256', 'EC')).toThrow(BadParameter);
  });

  it('keeps RSA and EC algorithms apart', () => {
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
      expect(assertSignatureAlgorithm(alg, 'RSA')).toBe(alg);
      expect(() => assertSignatureAlgorithm(alg, 'EC', 'P-256')).toThrow(BadParameter);
    }
    expect(() => assertSignatureAlgorithm('ES256', 'RSA')).toThrow(new BadParameter("Algorithm 'ES256' is not supported for key of type 'RSA'."));
    expect(() => assertSignatureAlgorithm('RSA-OAEP', 'RSA')).toThrow(BadParameter);
    expect(() => assertSignatureAlgorithm('RSNULL', 'RSA')).toThrow(BadParameter);
  });

  it('keeps hostile algorithm names out of the message', () => {
    const error = (() => {
      try {
        assertSignatureAlgorithm(`\u0000${'x'.repeat(500)}`, 'RSA');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(BadParameter);
    expect(error!.message.length).toBeLessThan(120);
    expect(error!.message).not.toContain('\u0000');
  });
});

describe('assertEncryptionAlgorithm', () => {
  it('allows RSA encryption algorithms on RSA keys only', () => {
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5']) {
      expect(assertEncryptionAlgorithm(alg, 'RSA')).toBe(alg);
      expect(() => assertEncryptionAlgorithm(alg, 'EC')).toThrow(new BadParameter(`Algorithm '${alg}' is not supported for key of type 'EC'.`));
    }
    expect(() => assertEncryptionAlgorithm('A256GCM', 'RSA')).toThrow(BadParameter);
    expect(() => assertEncryptionAlgorithm('PS256', 'RSA')).toThrow(BadParameter);
  });
});

describe('assertDigest', () => {
  it.each(SIGNATURES)('%s takes exactly its digest length', (alg, _hash, length) => {
    expect(() => assertDigest(alg, new Uint8Array(length))).not.toThrow();
    expect(() => assertDigest(alg, new Uint8Array(length - 1))).toThrow(BadParameter);
    expect(() => assertDigest(alg, new Uint8Array(length + 1))).toThrow(BadParameter);
    expect(() => assertDigest(alg, new Uint8Array(0))).toThrow(BadParameter);
  });

  it('says what it expected', () => {
    expect(() => assertDigest('ES384', new Uint8Array(32))).toThrow(
      new BadParameter("Invalid digest length 32 for algorithm 'ES384': expected 48 bytes."),
    );
  });
});
