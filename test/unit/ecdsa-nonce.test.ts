/**
 * The ECDSA nonce is hedged (lib/crypto/ecdsa-digest.ts): fresh random bytes, and also the private
 * scalar and the digest. With a generator stuck on one output, two different digests must still get
 * different nonces, or the two signatures together would give the private key away.
 */
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ecdsaPrivateKey, signEcdsa } from '../../lib/crypto/ecdsa-digest.ts';
import type { Curve } from '../../lib/crypto/ecdsa-signature.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  // The same bytes on every call: a generator that has failed (or a cloned one).
  return { ...actual, randomBytes: (size: number) => Buffer.alloc(size, 0x5a) };
});

const CURVES: { curve: Curve; openssl: string; size: number }[] = [
  { curve: 'P-256', openssl: 'prime256v1', size: 32 },
  { curve: 'P-384', openssl: 'secp384r1', size: 48 },
  { curve: 'P-521', openssl: 'secp521r1', size: 66 },
  { curve: 'P-256K', openssl: 'secp256k1', size: 32 },
];

describe.each(CURVES)('ECDSA nonces on $curve with a stuck random generator', ({ curve, openssl, size }) => {
  const pair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: openssl });
    return { publicKey, key: ecdsaPrivateKey(curve, Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')) };
  };
  const digestOf = (text: string) => createHash('sha256').update(text).digest();
  const rOf = (signature: Buffer) => signature.subarray(0, size).toString('hex');

  it('still differ between digests and between keys, and the signatures still verify', () => {
    const a = pair();
    const b = pair();
    const one = signEcdsa(a.key, digestOf('one'));
    const two = signEcdsa(a.key, digestOf('two'));
    const otherKey = signEcdsa(b.key, digestOf('one'));
    expect(new Set([rOf(one), rOf(two), rOf(otherKey)]).size).toBe(3);
    expect(verify('sha256', Buffer.from('one'), { key: a.publicKey, dsaEncoding: 'ieee-p1363' }, one)).toBe(true);
    expect(verify('sha256', Buffer.from('two'), { key: a.publicKey, dsaEncoding: 'ieee-p1363' }, two)).toBe(true);
    expect(verify('sha256', Buffer.from('one'), { key: b.publicKey, dsaEncoding: 'ieee-p1363' }, otherKey)).toBe(true);
    // Only the same key over the same digest repeats, which gives nothing away: it is the same signature.
    expect(signEcdsa(a.key, digestOf('one'))).toEqual(one);
  });
});
