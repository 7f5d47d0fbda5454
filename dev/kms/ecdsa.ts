/**
 * ECDSA over a digest the caller already computed (KMS MessageType DIGEST). node:crypto only signs
 * and verifies messages it hashes itself, so this does the arithmetic with BigInt. Signing gets k·G
 * from OpenSSL (through ECDH), so the point multiplication by the secret nonce is OpenSSL's; only
 * verification, which handles public values, multiplies points here. The remaining scalar
 * arithmetic (k⁻¹(e + r·d) mod n) is BigInt and not constant-time: acceptable for a development
 * endpoint on loopback, and the reason RAW messages never take this path.
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { Curve } from './specs.ts';

export interface CurveParameters {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  /** Byte length of a field element / scalar. */
  size: number;
}

const hex = (value: string) => BigInt(`0x${value}`);

// SEC 2 / FIPS 186-4 domain parameters; test/unit/local-kms-ecdsa.test.ts cross-checks each against OpenSSL.
export const CURVES: Record<Curve, CurveParameters> = {
  prime256v1: {
    p: hex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
    a: hex('ffffffff00000001000000000000000000000000fffffffffffffffffffffffc'),
    b: hex('5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
    n: hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
    gx: hex('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
    gy: hex('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
    size: 32,
  },
  secp384r1: {
    p: hex('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff'),
    a: hex('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc'),
    b: hex('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
    n: hex('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
    gx: hex('aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7'),
    gy: hex('3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f'),
    size: 48,
  },
  secp521r1: {
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    b: hex(
      '0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00',
    ),
    n: hex(
      '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    ),
    gx: hex(
      '00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66',
    ),
    gy: hex(
      '011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650',
    ),
    size: 66,
  },
  secp256k1: {
    p: hex('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'),
    a: 0n,
    b: 7n,
    n: hex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
    gx: hex('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'),
    gy: hex('483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'),
    size: 32,
  },
};

export function signDigest(curve: Curve, privateScalar: bigint, digest: Buffer): Buffer {
  const c = CURVES[curve];
  const e = digestToInteger(digest, c.n);
  const ecdh = createECDH(curve);
  for (;;) {
    const k = randomScalar(c.n, c.size);
    ecdh.setPrivateKey(toBytes(k, c.size));
    const point = ecdh.getPublicKey(); // 0x04 || X || Y
    const r = mod(fromBytes(point.subarray(1, 1 + c.size)), c.n);
    if (r === 0n) continue;
    const s = mod(invert(k, c.n) * (e + r * privateScalar), c.n);
    if (s === 0n) continue;
    return encodeDerSignature(r, s);
  }
}

export function verifyDigest(curve: Curve, publicPoint: { x: bigint; y: bigint }, digest: Buffer, signature: Buffer): boolean {
  const c = CURVES[curve];
  const decoded = decodeDerSignature(signature);
  if (!decoded) return false;
  const { r, s } = decoded;
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const e = digestToInteger(digest, c.n);
  const w = invert(s, c.n);
  const u1 = mod(e * w, c.n);
  const u2 = mod(r * w, c.n);
  const sum = add(c, multiply(c, u1, { x: c.gx, y: c.gy, z: 1n }), multiply(c, u2, { ...publicPoint, z: 1n }));
  const affine = toAffine(c, sum);
  if (!affine) return false;
  return mod(affine.x, c.n) === r;
}

/** The leftmost bits of the digest, as many as the order has (SEC 1, 4.1.3 step 5). */
function digestToInteger(digest: Buffer, n: bigint): bigint {
  const orderBits = n.toString(2).length;
  let e = fromBytes(digest);
  const excess = digest.length * 8 - orderBits;
  if (excess > 0) e >>= BigInt(excess);
  return e;
}

function randomScalar(n: bigint, size: number): bigint {
  const orderBits = n.toString(2).length;
  const topMask = 0xff >> (size * 8 - orderBits);
  // Rejection sampling keeps k uniform; masking the top byte keeps the expected number of tries below two.
  for (;;) {
    const bytes = randomBytes(size);
    bytes[0] = bytes[0]! & topMask;
    const k = fromBytes(bytes);
    if (k > 0n && k < n) return k;
  }
}

interface JacobianPoint {
  x: bigint;
  y: bigint;
  z: bigint;
}
const INFINITY: JacobianPoint = { x: 1n, y: 1n, z: 0n };

function double(c: CurveParameters, point: JacobianPoint): JacobianPoint {
  if (point.z === 0n || point.y === 0n) return INFINITY;
  const { p } = c;
  const yy = mod(point.y * point.y, p);
  const s = mod(4n * point.x * yy, p);
  const zz = mod(point.z * point.z, p);
  const m = mod(3n * point.x * point.x + c.a * zz * zz, p);
  const x = mod(m * m - 2n * s, p);
  const y = mod(m * (s - x) - 8n * yy * yy, p);
  const z = mod(2n * point.y * point.z, p);
  return { x, y, z };
}

function add(c: CurveParameters, first: JacobianPoint, second: JacobianPoint): JacobianPoint {
  if (first.z === 0n) return second;
  if (second.z === 0n) return first;
  const { p } = c;
  const z1z1 = mod(first.z * first.z, p);
  const z2z2 = mod(second.z * second.z, p);
  const u1 = mod(first.x * z2z2, p);
  const u2 = mod(second.x * z1z1, p);
  const s1 = mod(first.y * second.z * z2z2, p);
  const s2 = mod(second.y * first.z * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(c, first) : INFINITY;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = mod(h * h, p);
  const hhh = mod(h * hh, p);
  const x = mod(r * r - hhh - 2n * u1 * hh, p);
  const y = mod(r * (u1 * hh - x) - s1 * hhh, p);
  const z = mod(h * first.z * second.z, p);
  return { x, y, z };
}

function multiply(c: CurveParameters, scalar: bigint, point: JacobianPoint): JacobianPoint {
  let result = INFINITY;
  for (let bit = BigInt(scalar.toString(2).length - 1); bit >= 0n; bit--) {
    result = double(c, result);
    if ((scalar >> bit) & 1n) result = add(c, result, point);
  }
  return result;
}

function toAffine(c: CurveParameters, point: JacobianPoint): { x: bigint; y: bigint } | undefined {
  if (point.z === 0n) return undefined;
  const zInverse = invert(point.z, c.p);
  const zz = mod(zInverse * zInverse, c.p);
  return { x: mod(point.x * zz, c.p), y: mod(point.y * zz * zInverse, c.p) };
}

export function mod(value: bigint, modulus: bigint): bigint {
  const result = value % modulus;
  return result < 0n ? result + modulus : result;
}

export function invert(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [mod(value, modulus), modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return mod(oldS, modulus);
}

export function fromBytes(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function toBytes(value: bigint, length: number): Buffer {
  const text = value.toString(16).padStart(length * 2, '0');
  if (text.length > length * 2) throw new Error('integer too large');
  return Buffer.from(text, 'hex');
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }: the encoding KMS returns. */
export function encodeDerSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** Strict DER: a signature that only parses leniently is not one KMS would have produced or accepted. */
export function decodeDerSignature(der: Buffer): { r: bigint; s: bigint } | undefined {
  let offset = 0;
  const readLength = (): number | undefined => {
    const first = der[offset++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined; // two integers of at most 67 bytes never need more
    const value = der[offset++];
    return value === undefined || value < 0x80 ? undefined : value;
  };
  const readInteger = (): bigint | undefined => {
    if (der[offset++] !== 0x02) return undefined;
    const length = readLength();
    if (length === undefined || length === 0 || offset + length > der.length) return undefined;
    const bytes = der.subarray(offset, offset + length);
    offset += length;
    if (bytes[0]! & 0x80) return undefined; // negative
    if (length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return undefined; // not minimal
    return fromBytes(bytes);
  };
  if (der[offset++] !== 0x30) return undefined;
  const length = readLength();
  if (length === undefined || offset + length !== der.length) return undefined;
  const r = readInteger();
  const s = readInteger();
  if (r === undefined || s === undefined || offset !== der.length) return undefined;
  return { r, s };
}

function derInteger(value: bigint): Buffer {
  let bytes = Buffer.from(value.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex');
  while (bytes.length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) bytes = bytes.subarray(1);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
}

function derLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}
