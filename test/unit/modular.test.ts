/**
 * lib/crypto/modular.ts: byte conversions against hex, and Lehmer's inversion against the plain
 * extended Euclid, over the moduli ECDSA uses (the four curves' orders and field primes) and the
 * corners where Lehmer's single-precision steps hand over to full steps.
 */
import { randomBytes } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { invert, toBigInt, toBytes } from '../../lib/crypto/modular.ts';

const MODULI = [p256, p384, p521, secp256k1].flatMap((curve) => [curve.Point.CURVE().n, curve.Point.CURVE().p]);

function euclid(a: bigint, m: bigint): bigint {
  let [x, y, u, v] = [0n, 1n, m, a];
  while (v !== 0n) {
    const q = u / v;
    [x, y] = [y, x - q * y];
    [u, v] = [v, u - q * v];
  }
  return ((x % m) + m) % m;
}

const fromHex = (bytes: Buffer) => (bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`));

describe('toBigInt and toBytes', () => {
  it('read and write big-endian bytes of every length, as hex does', () => {
    for (let length = 0; length <= 80; length++) {
      const bytes = randomBytes(length);
      expect(toBigInt(bytes)).toBe(fromHex(bytes));
      expect(toBytes(fromHex(bytes), length)).toEqual(bytes);
      // A view into a larger buffer reads only its own bytes.
      expect(toBigInt(Buffer.concat([Buffer.of(0xff), bytes, Buffer.of(0xff)]).subarray(1, 1 + length))).toBe(fromHex(bytes));
    }
  });

  it('left-pads to the width asked for, and refuses what does not fit', () => {
    expect(toBytes(1n, 66)).toEqual(Buffer.concat([Buffer.alloc(65), Buffer.of(1)]));
    expect(toBytes(0n, 0)).toEqual(Buffer.alloc(0));
    expect(() => toBytes(1n << 256n, 32)).toThrow(RangeError);
    expect(() => toBytes(256n, 1)).toThrow(RangeError);
    expect(() => toBytes(-1n, 32)).toThrow(RangeError);
  });
});

describe('invert', () => {
  it.each(MODULI.map((m) => ({ m, bits: m.toString(2).length })))('agrees with extended Euclid modulo a $bits-bit prime', ({ m }) => {
    for (let i = 0; i < 500; i++) {
      const a = (fromHex(randomBytes(80)) % (m - 1n)) + 1n;
      const inverse = invert(a, m);
      expect(inverse).toBe(euclid(a, m));
      expect((inverse * a) % m).toBe(1n);
    }
  });

  it.each(MODULI.map((m) => ({ m, bits: m.toString(2).length })))('handles the corners modulo a $bits-bit prime', ({ m }) => {
    // Tiny and near-m values make the leading-bit steps give up at once; powers of two and numbers
    // with long runs of equal bits give long runs of quotient 1 or one huge quotient.
    const corners = [1n, 2n, 3n, m - 1n, m - 2n, m >> 1n, (m >> 1n) + 1n, 1n << 47n, 1n << 48n, (1n << 53n) + 1n, m / 3n, m - (1n << 100n)];
    for (const a of corners) expect((invert(a, m) * a) % m).toBe(1n);
  });

  it('refuses values outside (0, m) and values with no inverse', () => {
    const m = p256.Point.CURVE().n;
    expect(() => invert(0n, m)).toThrow(RangeError);
    expect(() => invert(m, m)).toThrow(RangeError);
    expect(() => invert(-1n, m)).toThrow(RangeError);
    expect(() => invert(6n, 9n)).toThrow(RangeError);
  });
});
