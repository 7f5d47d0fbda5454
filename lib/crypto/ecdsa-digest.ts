/**
 * ECDSA over a digest the caller already computed (Key Vault sign/verify, KMS MessageType DIGEST),
 * with OpenSSL doing the elliptic-curve arithmetic. node:crypto has no prehashed ECDSA (sign(null, …)
 * on an EC key hashes with SHA-256 as well), but it multiplies points: on an ECDH object,
 * setPrivateKey(k) then getPublicKey() is k·G, by the same constant-time code OpenSSL's own ECDSA
 * signs with, and computeSecret(P) is the x coordinate of k·P. Signing does k·G there and the few
 * operations modulo the group order here, with bigint; verifying turns the check into one OpenSSL can
 * do. Signatures are raw R||S (the JOSE form), low S. Why this is safe enough for a key vault
 * (nonces, blinding, what bigint leaks) and what it costs: docs/adr/0010-prehashed-ecdsa-with-openssl.md.
 */
import { createECDH, createHash, type ECDH, randomBytes, verify } from 'node:crypto';
import type { Curve } from './ecdsa-signature.ts';
import { invert, toBigInt, toBytes } from './modular.ts';

/** A private scalar parsed once. `secret` is wiped by wipeEcdsaPrivateKey; the bigint cannot be. */
export interface EcdsaPrivateKey {
  readonly curve: Curve;
  /** d, big-endian, the curve's field size: what the nonce derivation hashes. */
  readonly secret: Buffer;
  readonly d: bigint;
}

/** A public point, checked to be on its curve. */
export interface EcdsaPublicKey {
  readonly curve: Curve;
  readonly x: bigint;
  readonly y: bigint;
}

/** d as big-endian bytes (any width); throws unless 0 < d < n. */
export function ecdsaPrivateKey(curve: Curve, d: Uint8Array): EcdsaPrivateKey {
  const c = paramsOf(curve);
  const value = toBigInt(d);
  if (value <= 0n || value >= c.n) throw new RangeError('The EC private scalar is out of range for its curve.');
  return { curve, secret: toBytes(value, c.size), d: value };
}

export function wipeEcdsaPrivateKey(key: EcdsaPrivateKey): void {
  key.secret.fill(0);
}

/** (x, y) as big-endian bytes; throws unless the point is on the curve. */
export function ecdsaPublicKey(curve: Curve, x: Uint8Array, y: Uint8Array): EcdsaPublicKey {
  const c = paramsOf(curve);
  const point = { x: toBigInt(x), y: toBigInt(y) };
  // The four curves have prime order (cofactor 1), so on the curve means in the signing group.
  if (point.x >= c.p || point.y >= c.p || !onCurve(c, point)) throw new RangeError('The EC public point is not on its curve.');
  return { curve, ...point };
}

/** Raw R||S, each half the curve's field size, S normalised to the low half. */
export function signEcdsa(key: EcdsaPrivateKey, digest: Uint8Array): Buffer {
  const c = paramsOf(key.curve);
  const e = bitsToInt(c, digest);
  for (;;) {
    const fresh = randomBytes(HEDGE_BYTES + c.scalarBytes + SCALAR_BLIND_BYTES);
    const k = nonce(c, key, digest, fresh.subarray(0, HEDGE_BYTES));
    const r = toBigInt(baseMultiple(c, k).subarray(1, 1 + c.size)) % c.n;
    // k^-1 as b·(k·b)^-1: the variable-time inversion sees k·b, uniformly random whatever k is.
    const blind = scalarFrom(c, fresh.subarray(HEDGE_BYTES, HEDGE_BYTES + c.scalarBytes));
    const kInverse = (invert((k * blind) % c.n, c.n) * blind) % c.n;
    // r·d as r·(d + m·n) for a fresh 64-bit m: the same value mod n, but the operands bigint's
    // multiplication and division see change with every signature (scalar blinding).
    const d = key.d + toBigInt(fresh.subarray(HEDGE_BYTES + c.scalarBytes)) * c.n;
    fresh.fill(0);
    let s = (kInverse * ((e + r * d) % c.n)) % c.n;
    // r = 0 or s = 0 happen with probability ~2^-256; the standard answer is another nonce.
    if (r === 0n || s === 0n) continue;
    if (s > c.n >> 1n) s = c.n - s;
    return Buffer.concat([toBytes(r, c.size), toBytes(s, c.size)]);
  }
}

/**
 * False, not an error, for any signature that is not valid: wrong length, r or s outside [1, n-1],
 * or the equation. Both S halves are accepted, as OpenSSL, KMS and Azure produce either.
 */
export function verifyEcdsa(key: EcdsaPublicKey, digest: Uint8Array, signature: Uint8Array): boolean {
  const c = paramsOf(key.curve);
  if (signature.length !== 2 * c.size) return false;
  const r = toBigInt(signature.subarray(0, c.size));
  const s = toBigInt(signature.subarray(c.size));
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const e = bitsToInt(c, digest) % c.n;
  return c.fastBase ? verifyByMultiples(c, key, e, r, s) : verifyAsEmptyMessage(c, key, e, r, s, signature);
}

// ---------------------------------------------------------------------------------------------

interface CurveParams {
  /** The OpenSSL name createECDH takes. */
  readonly openssl: string;
  /** Field size in bytes: the width of coordinates, of the private scalar and of each signature half. */
  readonly size: number;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  /** The order of the base point, prime for all four curves. */
  readonly n: bigint;
  readonly nBits: number;
  /** Whether OpenSSL's base multiple is much cheaper than a point multiple (verifyByMultiples). */
  readonly fastBase: boolean;
  /** DER SubjectPublicKeyInfo up to the uncompressed point. */
  readonly spkiPrefix: Buffer;
  /** Random bytes per scalar: the order's size plus 8, so reducing them mod n-1 is biased by < 2^-64 (FIPS 186-5 A.3.1). */
  readonly scalarBytes: number;
}

interface Affine {
  x: bigint;
  y: bigint;
}

/** Fresh random bytes mixed into every nonce besides the key and the digest. */
const HEDGE_BYTES = 32;
/** Random bytes of the multiple of n added to the private scalar for each signature. */
const SCALAR_BLIND_BYTES = 8;

const hex = (digits: string) => BigInt(`0x${digits}`);

interface Definition {
  openssl: string;
  fastBase: boolean;
  spki: string;
  size: number;
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
}

function curveParams({ spki, ...definition }: Definition): CurveParams {
  const nBits = definition.n.toString(2).length;
  return { ...definition, spkiPrefix: Buffer.from(spki, 'hex'), nBits, scalarBytes: Math.ceil(nBits / 8) + 8 };
}

/** The message verifyEcdsa hands OpenSSL, and its SHA-256 as an integer (no curve here is shorter). */
const EMPTY = Buffer.alloc(0);
const EMPTY_SHA256 = toBigInt(createHash('sha256').digest());

// SEC 2 v2 and FIPS 186-5 / SP 800-186 domain parameters; the unit tests hold them to @noble/curves'.
const P256 = hex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff');
const P384 = hex('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff');
const P521 = (1n << 521n) - 1n;
const K256 = hex('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f');
const PARAMS: Record<Curve, CurveParams> = {
  'P-256': curveParams({
    openssl: 'prime256v1',
    fastBase: true,
    spki: '3059301306072a8648ce3d020106082a8648ce3d030107034200',
    size: 32,
    p: P256,
    a: P256 - 3n,
    b: hex('5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
    n: hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  }),
  'P-384': curveParams({
    openssl: 'secp384r1',
    fastBase: false,
    spki: '3076301006072a8648ce3d020106052b81040022036200',
    size: 48,
    p: P384,
    a: P384 - 3n,
    b: hex('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
    n: hex('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  }),
  'P-521': curveParams({
    openssl: 'secp521r1',
    fastBase: false,
    spki: '30819b301006072a8648ce3d020106052b8104002303818600',
    size: 66,
    p: P521,
    a: P521 - 3n,
    b: hex('0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00'),
    n: hex('01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
  }),
  'P-256K': curveParams({
    openssl: 'secp256k1',
    fastBase: false,
    spki: '3056301006072a8648ce3d020106052b8104000a034200',
    size: 32,
    p: K256,
    a: 0n,
    b: 7n,
    n: hex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
  }),
};

function paramsOf(curve: Curve): CurveParams {
  const params = PARAMS[curve];
  if (!params) throw new RangeError('Unsupported curve for ECDSA.');
  return params;
}

/**
 * The check x(e/s·G + r/s·Q) = r (mod n) as (r/s)·((e/r)·G + Q): a base multiple, an addition here,
 * and a point multiple by computeSecret. Three multiplications, which is the cheaper way where the
 * base multiple is cheap (P-256's precomputed tables). Everything is public: no blinding needed.
 */
function verifyByMultiples(c: CurveParams, key: EcdsaPublicKey, e: bigint, r: bigint, s: bigint): boolean {
  const w = invert((r * s) % c.n, c.n); // 1/(rs): both inverses from one inversion
  const eOverR = (e * s * w) % c.n;
  const rOverS = (r * r * w) % c.n;
  const sum = eOverR === 0n ? { x: key.x, y: key.y } : add(c, decodePoint(c, baseMultiple(c, eOverR)), key);
  if (!sum) return false; // (e/r)·G = -Q: the point at infinity, which has no x
  const ecdh = ecdhOf(c);
  ecdh.setPrivateKey(toBytes(rOverS, c.size));
  return toBigInt(ecdh.computeSecret(encodePoint(c, sum))) % c.n === r;
}

/**
 * The same check handed to OpenSSL's own verification, which only takes messages it hashes itself:
 * with e0 the hash of the empty message, e/s·G + r/s·Q = e0/s·G + r/s·Q' for Q' = Q + ((e - e0)/r)·G,
 * so (r, s) is valid for the digest under Q exactly when it is valid for the empty message under Q'.
 * One base multiple and OpenSSL's double-scalar multiplication: the cheaper way where every
 * multiplication is a full ladder (P-384, P-521, secp256k1).
 */
function verifyAsEmptyMessage(c: CurveParams, key: EcdsaPublicKey, e: bigint, r: bigint, s: bigint, signature: Uint8Array): boolean {
  const shift = modulo((e - EMPTY_SHA256) * invert(r, c.n), c.n);
  const shifted = shift === 0n ? { x: key.x, y: key.y } : add(c, decodePoint(c, baseMultiple(c, shift)), key);
  if (!shifted) {
    // Q' is the point at infinity, which no public key can be; the sum is then e0/s·G itself.
    const u = (EMPTY_SHA256 * invert(s, c.n)) % c.n;
    return u !== 0n && toBigInt(baseMultiple(c, u).subarray(1, 1 + c.size)) % c.n === r;
  }
  const spki = Buffer.concat([c.spkiPrefix, encodePoint(c, shifted)]);
  return verify('sha256', EMPTY, { key: spki, format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' }, signature);
}

/**
 * One ECDH object per curve, reused: creating one costs more than the P-256 multiplication itself.
 * It keeps the last scalar it multiplied by (a signature's nonce) until the next operation on the
 * curve replaces it; that is the same process memory that holds the opened keys themselves.
 */
const ECDH_BY_CURVE = new Map<string, ECDH>();

function ecdhOf(c: CurveParams): ECDH {
  let ecdh = ECDH_BY_CURVE.get(c.openssl);
  if (!ecdh) {
    ecdh = createECDH(c.openssl);
    ECDH_BY_CURVE.set(c.openssl, ecdh);
  }
  return ecdh;
}

/** scalar·G, uncompressed (0x04 || x || y), by OpenSSL's fixed-base multiplication. */
function baseMultiple(c: CurveParams, scalar: bigint): Buffer {
  const bytes = toBytes(scalar, c.size);
  const ecdh = ecdhOf(c);
  ecdh.setPrivateKey(bytes);
  bytes.fill(0);
  return ecdh.getPublicKey();
}

/**
 * The nonce, hedged as OpenSSL derives its own (ossl_bn_gen_dsa_nonce_fixed_top): SHA-512 over a
 * block counter, the private scalar, the digest and fresh random bytes, reduced into [1, n-1]. Random
 * if the generator is sound; and if it ever repeated, still a different secret nonce for every
 * different digest, because the private scalar goes in too.
 */
function nonce(c: CurveParams, key: EcdsaPrivateKey, digest: Uint8Array, hedge: Uint8Array): bigint {
  const material = Buffer.alloc(Math.ceil(c.scalarBytes / 64) * 64);
  for (let block = 0; block * 64 < c.scalarBytes; block++) {
    const out = createHash('sha512').update(Uint8Array.of(block)).update(key.secret).update(digest).update(hedge).digest();
    out.copy(material, block * 64);
    out.fill(0);
  }
  const k = scalarFrom(c, material.subarray(0, c.scalarBytes));
  material.fill(0);
  return k;
}

/** scalarBytes of uniform bytes -> [1, n-1], biased by less than 2^-64. */
function scalarFrom(c: CurveParams, bytes: Uint8Array): bigint {
  return (toBigInt(bytes) % (c.n - 1n)) + 1n;
}

/** The digest as an integer, truncated to the order's bit length (SEC 1 §4.1.3 step 5). */
function bitsToInt(c: CurveParams, digest: Uint8Array): bigint {
  const excess = digest.length * 8 - c.nBits;
  const value = toBigInt(digest);
  return excess > 0 ? value >> BigInt(excess) : value;
}

function onCurve(c: CurveParams, { x, y }: Affine): boolean {
  return (y * y - (x * x * x + c.a * x + c.b)) % c.p === 0n;
}

function decodePoint(c: CurveParams, uncompressed: Buffer): Affine {
  return { x: toBigInt(uncompressed.subarray(1, 1 + c.size)), y: toBigInt(uncompressed.subarray(1 + c.size)) };
}

function encodePoint(c: CurveParams, { x, y }: Affine): Buffer {
  return Buffer.concat([Uint8Array.of(4), toBytes(x, c.size), toBytes(y, c.size)]);
}

/** P + Q in affine coordinates, or undefined for the point at infinity. Public values only. */
function add(c: CurveParams, P: Affine, Q: Affine): Affine | undefined {
  const { p } = c;
  let slope: bigint;
  if (P.x === Q.x) {
    if ((P.y + Q.y) % p === 0n) return undefined; // Q = -P, including a doubling of a point with y = 0
    slope = (((3n * P.x * P.x + c.a) % p) * invert((2n * P.y) % p, p)) % p;
  } else {
    slope = (modulo(P.y - Q.y, p) * invert(modulo(P.x - Q.x, p), p)) % p;
  }
  const x = modulo(slope * slope - P.x - Q.x, p);
  return { x, y: modulo(slope * (P.x - x) - P.y, p) };
}

function modulo(value: bigint, m: bigint): bigint {
  const rest = value % m;
  return rest < 0n ? rest + m : rest;
}
