/**
 * DER <-> raw R||S, held to node:crypto, which speaks both ('der' and 'ieee-p1363').
 */
import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { derToRaw, rawToDer } from '../../lib/crypto/ecdsa-signature.ts';
import { BadParameter } from '../../lib/core/errors.ts';
import type { Curve } from '../../lib/keys/algorithms.ts';

const CASES: { curve: Curve; openssl: string; hash: string; size: number }[] = [
  { curve: 'P-256', openssl: 'prime256v1', hash: 'sha256', size: 32 },
  { curve: 'P-384', openssl: 'secp384r1', hash: 'sha384', size: 48 },
  { curve: 'P-521', openssl: 'secp521r1', hash: 'sha512', size: 66 },
  { curve: 'P-256K', openssl: 'secp256k1', hash: 'sha256', size: 32 },
];

const message = Buffer.from('the quick brown fox jumps over the lazy dog');
const keys = new Map<Curve, { privateKey: KeyObject; publicKey: KeyObject }>();

beforeAll(() => {
  for (const c of CASES) keys.set(c.curve, generateKeyPairSync('ec', { namedCurve: c.openssl }));
});

function hex(value: string): Buffer {
  return Buffer.from(value.replace(/\s/g, ''), 'hex');
}

describe('derToRaw / rawToDer against node:crypto', () => {
  it.each(CASES)('$curve: node DER -> raw verifies as ieee-p1363, and back', ({ curve, hash, size }) => {
    const { privateKey, publicKey } = keys.get(curve)!;
    for (let i = 0; i < 16; i++) {
      const der = sign(hash, message, { key: privateKey, dsaEncoding: 'der' });
      const raw = derToRaw(der, curve);
      expect(raw.length).toBe(2 * size);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(rawToDer(raw, curve).equals(der)).toBe(true);
    }
  });

  it.each(CASES)('$curve: node ieee-p1363 -> DER verifies as der, and back', ({ curve, hash }) => {
    const { privateKey, publicKey } = keys.get(curve)!;
    for (let i = 0; i < 16; i++) {
      const raw = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = rawToDer(raw, curve);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      expect(derToRaw(der, curve).equals(raw)).toBe(true);
    }
  });

  it('handles real P-256 signatures whose R or S is shorter than 32 bytes', () => {
    const { privateKey, publicKey } = keys.get('P-256')!;
    // About one signature in 128 has a half with a leading zero byte; look until one turns up.
    let found = 0;
    for (let i = 0; i < 20_000 && found < 2; i++) {
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      if (raw[0] !== 0 && raw[32] !== 0) continue;
      found++;
      const der = rawToDer(raw, 'P-256');
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      expect(derToRaw(der, 'P-256').equals(raw)).toBe(true);
    }
    expect(found).toBeGreaterThan(0);
  });

  it('uses the long length form for P-521 signatures and 66-byte halves', () => {
    const { privateKey } = keys.get('P-521')!;
    const der = sign('sha512', message, { key: privateKey, dsaEncoding: 'der' });
    expect(der[1]).toBe(0x81);
    const raw = derToRaw(der, 'P-521');
    expect(raw.length).toBe(132);
    // 521 bits: the top byte of each 66-byte half carries at most one bit.
    expect(raw[0]! <= 1 && raw[66]! <= 1).toBe(true);
  });
});

describe('rawToDer encoding details', () => {
  it('strips leading zeros and adds a sign byte where the top bit is set', () => {
    const r = Buffer.alloc(32);
    r[31] = 1; // r = 1
    const s = Buffer.alloc(32, 0xff); // s has its top bit set
    const der = rawToDer(Buffer.concat([r, s]), 'P-256');
    expect(der).toEqual(hex(`30 26 02 01 01 02 21 00 ${'ff'.repeat(32)}`));
    expect(derToRaw(der, 'P-256')).toEqual(Buffer.concat([r, s]));
  });

  it('keeps a single zero byte for a zero half, and round-trips short values', () => {
    const raw = Buffer.concat([Buffer.alloc(32), hex(`0000007f${'11'.repeat(28)}`)]);
    const der = rawToDer(raw, 'P-256');
    expect(der).toEqual(hex(`30 22 02 01 00 02 1d 7f${'11'.repeat(28)}`));
    expect(derToRaw(der, 'P-256')).toEqual(raw);
  });

  it('encodes P-521 halves of 66 bytes', () => {
    const r = Buffer.alloc(66, 0xab);
    r[0] = 0x01;
    const s = Buffer.alloc(66, 0x00);
    s[65] = 0x80;
    const der = rawToDer(Buffer.concat([r, s]), 'P-521');
    expect(der).toEqual(Buffer.concat([hex('30 48 02 42'), r, hex('02 02 00 80')]));
    expect(derToRaw(der, 'P-521')).toEqual(Buffer.concat([r, s]));
  });

  it.each(CASES)('$curve: rejects a raw signature of the wrong length', ({ curve, size }) => {
    expect(() => rawToDer(new Uint8Array(2 * size - 1), curve)).toThrow(BadParameter);
    expect(() => rawToDer(new Uint8Array(2 * size + 2), curve)).toThrow(BadParameter);
    expect(() => rawToDer(new Uint8Array(0), curve)).toThrow(BadParameter);
  });
});

describe('derToRaw rejects malformed DER', () => {
  const good = rawToDer(Buffer.concat([Buffer.alloc(32, 0x11), Buffer.alloc(32, 0x22)]), 'P-256');

  it.each([
    ['empty', Buffer.alloc(0)],
    ['not a SEQUENCE', Buffer.concat([Buffer.from([0x31]), good.subarray(1)])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
    ['sequence length too long', Buffer.concat([Buffer.from([0x30, good[1]! + 1]), good.subarray(2)])],
    ['not an INTEGER', hex(`30 06 04 01 01 02 01 01`)],
    ['zero-length INTEGER', hex(`30 05 02 00 02 01 01`)],
    ['negative INTEGER', hex(`30 06 02 01 81 02 01 01`)],
    ['non-minimal INTEGER', hex(`30 07 02 02 00 01 02 01 01`)],
    ['long-form length below 128', hex(`30 81 06 02 01 01 02 01 01`)],
    ['only one INTEGER', hex(`30 03 02 01 01`)],
    ['INTEGER wider than the curve', Buffer.concat([hex('30 25 02 21 01'), Buffer.alloc(32, 1), hex('02 01 01')])],
  ])('%s', (_name, der) => {
    expect(() => derToRaw(der, 'P-256')).toThrow(BadParameter);
  });

  it('accepts a P-256 signature only at P-256 widths', () => {
    const p521 = rawToDer(Buffer.concat([Buffer.alloc(66, 1), Buffer.alloc(66, 1)]), 'P-521');
    expect(() => derToRaw(p521, 'P-256')).toThrow(BadParameter);
    expect(derToRaw(good, 'P-384').length).toBe(96);
  });
});
