/**
 * lib/crypto/ecdsa-digest.ts held to two independent implementations on all four curves, both ways:
 * node:crypto (which hashes the message itself, so it checks hash(message) signed as a digest) and
 * @noble/curves with prehash off. Also the corners of verification that honest signatures never reach
 * (a sum at the point at infinity, a shifted key that would be it), built from the private key.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  type EcdsaPrivateKey,
  type EcdsaPublicKey,
  ecdsaPrivateKey,
  ecdsaPublicKey,
  signEcdsa,
  verifyEcdsa,
  wipeEcdsaPrivateKey,
} from '../../lib/crypto/ecdsa-digest.ts';
import type { Curve } from '../../lib/crypto/ecdsa-signature.ts';
import { toBigInt, toBytes } from '../../lib/crypto/modular.ts';

const CURVES = [
  { curve: 'P-256', openssl: 'prime256v1', hash: 'sha256', size: 32, noble: p256 },
  { curve: 'P-384', openssl: 'secp384r1', hash: 'sha384', size: 48, noble: p384 },
  { curve: 'P-521', openssl: 'secp521r1', hash: 'sha512', size: 66, noble: p521 },
  { curve: 'P-256K', openssl: 'secp256k1', hash: 'sha256', size: 32, noble: secp256k1 },
] as const satisfies readonly { curve: Curve; openssl: string; hash: string; size: number; noble: unknown }[];
type CurveCase = (typeof CURVES)[number];

const message = Buffer.from('a JWT header and payload, say');

interface Fixture {
  privateKey: KeyObject;
  publicKey: KeyObject;
  ours: EcdsaPrivateKey;
  oursPublic: EcdsaPublicKey;
  d: bigint;
  /** Uncompressed point, for noble. */
  point: Buffer;
}

function fixture({ curve, openssl }: CurveCase): Fixture {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: openssl });
  const jwk = privateKey.export({ format: 'jwk' });
  const [d, x, y] = [jwk.d!, jwk.x!, jwk.y!].map((member) => Buffer.from(member, 'base64url')) as [Buffer, Buffer, Buffer];
  return {
    privateKey,
    publicKey,
    ours: ecdsaPrivateKey(curve, d),
    oursPublic: ecdsaPublicKey(curve, x, y),
    d: toBigInt(d),
    point: Buffer.concat([Buffer.of(4), x, y]),
  };
}

const FIXTURES = new Map(CURVES.map((c) => [c.curve, fixture(c)]));

function flipBit(bytes: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

const orderOf = (c: CurveCase) => c.noble.Point.CURVE().n;
const mod = (value: bigint, m: bigint) => ((value % m) + m) % m;
const nobleVerify = (c: CurveCase, signature: Uint8Array, digest: Uint8Array, lowS: boolean) =>
  c.noble.verify(signature, digest, FIXTURES.get(c.curve)!.point, { prehash: false, lowS, format: 'compact' });

/** A digest whose leading nBits are `e` (longer than the order for P-521, as SEC 1 truncates). */
function digestFor(c: CurveCase, e: bigint): Buffer {
  const nBits = orderOf(c).toString(2).length;
  const length = Math.ceil(nBits / 8);
  return toBytes(e << BigInt(8 * length - nBits), length);
}

describe.each(CURVES)('ECDSA over a digest on $curve', (c) => {
  const { privateKey, publicKey, ours, oursPublic } = FIXTURES.get(c.curve)!;
  const digest = createHash(c.hash).update(message).digest();
  const n = orderOf(c);

  it('ours verify with node:crypto and with noble, low S; node’s and noble’s verify with ours', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const signature = signEcdsa(ours, digest);
      expect(signature.length).toBe(2 * c.size);
      seen.add(signature.toString('hex'));
      expect(verify(c.hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
      expect(nobleVerify(c, signature, digest, true)).toBe(true);
      expect(verifyEcdsa(oursPublic, digest, signature)).toBe(true);

      const node = sign(c.hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(verifyEcdsa(oursPublic, digest, node)).toBe(true);
      const noble = c.noble.sign(digest, FIXTURES.get(c.curve)!.ours.secret, { prehash: false, format: 'compact' });
      expect(verifyEcdsa(oursPublic, digest, noble)).toBe(true);
    }
    // A random nonce each time: no two signatures alike.
    expect(seen.size).toBe(8);
  });

  it('accepts both S halves, and nothing altered', () => {
    const signature = signEcdsa(ours, digest);
    const s = toBigInt(signature.subarray(c.size));
    const highS = Buffer.concat([signature.subarray(0, c.size), toBytes(n - s, c.size)]);
    expect(verifyEcdsa(oursPublic, digest, highS)).toBe(true);
    expect(verify(c.hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, highS)).toBe(true);
    expect(verifyEcdsa(oursPublic, flipBit(digest, 3), signature)).toBe(false);
    expect(verifyEcdsa(oursPublic, digest, flipBit(signature, 2))).toBe(false);
    expect(verifyEcdsa(oursPublic, digest, flipBit(signature, 2 * c.size - 1))).toBe(false);
    expect(verifyEcdsa(fixture(c).oursPublic, digest, signature)).toBe(false); // another key
  });

  it('is false for wrong lengths and for r or s outside [1, n-1]', () => {
    const signature = signEcdsa(ours, digest);
    const [r, s] = [signature.subarray(0, c.size), signature.subarray(c.size)];
    const bad = [
      signature.subarray(1),
      Buffer.concat([signature, Buffer.of(0)]),
      Buffer.alloc(0),
      Buffer.concat([toBytes(0n, c.size), s]),
      Buffer.concat([r, toBytes(0n, c.size)]),
      Buffer.concat([toBytes(n, c.size), s]),
      Buffer.concat([r, toBytes(n, c.size)]),
      Buffer.alloc(2 * c.size, 0xff),
    ];
    for (const signature of bad) expect(verifyEcdsa(oursPublic, digest, signature)).toBe(false);
  });

  it('truncates a digest longer than the order as SEC 1 says, like noble', () => {
    const long = createHash('sha512').update(message).digest();
    const extraLong = Buffer.concat([long, long]);
    for (const d of [long, extraLong]) {
      const signature = signEcdsa(ours, d);
      expect(nobleVerify(c, signature, d, true)).toBe(true);
      expect(verifyEcdsa(oursPublic, d, signature)).toBe(true);
      const noble = c.noble.sign(d, ours.secret, { prehash: false, format: 'compact' });
      expect(verifyEcdsa(oursPublic, d, noble)).toBe(true);
    }
  });

  it('signs and verifies the digests that take verification’s shortcuts', () => {
    // The hash of the empty message (the shifted key is the key itself), and zero (no base multiple).
    const empty = createHash('sha256').digest();
    const signature = signEcdsa(ours, empty);
    expect(verify('sha256', Buffer.alloc(0), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(verifyEcdsa(oursPublic, empty, signature)).toBe(true);
    expect(verifyEcdsa(oursPublic, empty, flipBit(signature, 0))).toBe(false);
    for (const zero of [Buffer.alloc(c.size), digestFor(c, n)]) {
      const overZero = signEcdsa(ours, zero);
      expect(nobleVerify(c, overZero, zero, true)).toBe(true);
      expect(verifyEcdsa(oursPublic, zero, overZero)).toBe(true);
    }
  });

  it('decides crafted signatures whose sums reach the point at infinity as noble does', () => {
    const { d } = FIXTURES.get(c.curve)!;
    const e0 = toBigInt(createHash('sha256').digest());
    const s = 0x1234567n;
    // Valid, and built so that Q + ((e - e0)/r)·G is the point at infinity: r = x(e0/s·G), e = e0 - d·r.
    const r = mod(c.noble.Point.BASE.multiply(mod(e0 * c.noble.Point.Fn.inv(s), n)).toAffine().x, n);
    const digest = digestFor(c, mod(e0 - d * r, n));
    const valid = Buffer.concat([toBytes(r, c.size), toBytes(s, c.size)]);
    expect(nobleVerify(c, valid, digest, false)).toBe(true);
    expect(verifyEcdsa(oursPublic, digest, valid)).toBe(true);
    const invalid = Buffer.concat([toBytes(r, c.size), toBytes(s + 1n, c.size)]);
    expect(nobleVerify(c, invalid, digest, false)).toBe(false);
    expect(verifyEcdsa(oursPublic, digest, invalid)).toBe(false);
    // Invalid whatever s: e = -d·r makes (e/r)·G + Q, and so e/s·G + r/s·Q, the point at infinity.
    const atInfinity = digestFor(c, mod(-d * r, n));
    expect(nobleVerify(c, valid, atInfinity, false)).toBe(false);
    expect(verifyEcdsa(oursPublic, atInfinity, valid)).toBe(false);
  });

  it('refuses private scalars outside [1, n-1] and points off the curve; wiping zeroes the scalar', () => {
    expect(() => ecdsaPrivateKey(c.curve, Buffer.alloc(c.size))).toThrow(RangeError);
    expect(() => ecdsaPrivateKey(c.curve, toBytes(n, c.size))).toThrow(RangeError);
    const { x, y } = oursPublic;
    expect(() => ecdsaPublicKey(c.curve, toBytes(x, c.size), toBytes(y + 1n, c.size))).toThrow(RangeError);
    const p = c.noble.Point.CURVE().p;
    expect(() => ecdsaPublicKey(c.curve, toBytes(x + p, c.size + 1), toBytes(y, c.size))).toThrow(RangeError);
    const copy = ecdsaPrivateKey(c.curve, ours.secret);
    wipeEcdsaPrivateKey(copy);
    expect(copy.secret.equals(Buffer.alloc(c.size))).toBe(true);
    expect(ours.secret.equals(Buffer.alloc(c.size))).toBe(false);
  });
});
