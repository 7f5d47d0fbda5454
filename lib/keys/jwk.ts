/**
 * Azure-flavoured JWKs (RFC 7517/7518 as Key Vault uses them) and software key material. Binary
 * members are base64url without padding. Azure names secp256k1 'P-256K' (RFC 8812 says
 * 'secp256k1', which is also what node:crypto reads and writes), so curve names are mapped at this
 * boundary and nowhere else.
 */
import { createECDH, createPrivateKey, createPublicKey, generateKeyPair, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { BadParameter } from '../core/errors.ts';
import { type Curve, CURVES, type KeyKind, RSA_KEY_SIZES } from './algorithms.ts';

export interface PublicJwk {
  /** `oct`: a managed HSM pool's AES key, whose public part is its type alone. */
  kty: KeyKind | 'oct';
  n?: string;
  e?: string;
  crv?: Curve;
  x?: string;
  y?: string;
}

export interface GeneratedKey {
  publicJwk: PublicJwk;
  privatePkcs8: Buffer;
  keySize?: number;
  curve?: Curve;
}

const generateKeyPairAsync = promisify(generateKeyPair);

interface CurveInfo {
  /** The name node:crypto uses in JWKs. */
  jwk: string;
  /** The OpenSSL name node:crypto reports in asymmetricKeyDetails.namedCurve. */
  openssl: string;
  size: number;
}

const CURVE_INFO: Record<Curve, CurveInfo> = {
  'P-256': { jwk: 'P-256', openssl: 'prime256v1', size: 32 },
  'P-384': { jwk: 'P-384', openssl: 'secp384r1', size: 48 },
  'P-521': { jwk: 'P-521', openssl: 'secp521r1', size: 66 },
  'P-256K': { jwk: 'secp256k1', openssl: 'secp256k1', size: 32 },
};

/** The curve's names and field size. */
export function curveInfo(curve: Curve): CurveInfo {
  const info = CURVE_INFO[curve];
  if (!info) throw new BadParameter(`Unsupported curve: expected ${CURVES.join(', ')}.`);
  return info;
}

/** Azure's curve name for whatever node:crypto or a caller calls it, or undefined if unsupported. */
export function azureCurve(name: unknown): Curve | undefined {
  if (typeof name !== 'string') return undefined;
  if ((CURVES as readonly string[]).includes(name)) return name as Curve;
  for (const curve of CURVES) {
    const info = CURVE_INFO[curve];
    if (name === info.jwk || name === info.openssl) return curve;
  }
  if (name === 'secp256r1') return 'P-256';
  return undefined;
}

/**
 * Software key generation with node:crypto: RSA 2048/3072/4096 (publicExponent default 65537, odd,
 * >= 3 and < 2^32) or an EC curve (default P-256). Throws BadParameter on an unsupported size/curve.
 */
export async function generateSoftwareKey(
  spec: { kind: 'RSA'; keySize?: number; publicExponent?: number } | { kind: 'EC'; curve?: Curve },
): Promise<GeneratedKey> {
  if (spec.kind === 'RSA') {
    const keySize = spec.keySize ?? 2048;
    assertRsaSize(keySize);
    const publicExponent = spec.publicExponent ?? 65537;
    if (!Number.isSafeInteger(publicExponent) || publicExponent < 3 || publicExponent >= 2 ** 32 || publicExponent % 2 === 0) {
      throw new BadParameter('Invalid public exponent: it must be an odd integer of at least 3 and below 2^32.');
    }
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: keySize, publicExponent });
    return { publicJwk: toPublicJwk(publicKey), privatePkcs8: pkcs8Of(privateKey), keySize };
  }
  if (spec.kind === 'EC') {
    const curve = spec.curve ?? 'P-256';
    const info = CURVE_INFO[curve];
    if (!info) throw new BadParameter(`Unsupported curve '${printable(curve)}': expected ${CURVES.join(', ')}.`);
    const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: info.openssl });
    return { publicJwk: toPublicJwk(publicKey), privatePkcs8: pkcs8Of(privateKey), curve };
  }
  throw new BadParameter(`Unsupported key type '${printable(String((spec as { kind: unknown }).kind))}'.`);
}

/**
 * An imported Azure JWK with private parts (RSA: n,e,d,p,q,dp,dq,qi; EC: crv,x,y,d) -> a validated
 * key. kty may carry -HSM. The private key must match the public members and be a supported
 * size/curve. Azure requires the CRT members for RSA import, and so does this.
 */
export function importJwk(jwk: Record<string, unknown>): GeneratedKey & { kind: KeyKind } {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new BadParameter('The key must be a JSON Web Key object.');
  const kty = jwk.kty;
  if (typeof kty !== 'string') throw new BadParameter("The key is missing the required member 'kty'.");
  if (jwk.key_hsm !== undefined) throw new BadParameter('Importing a key_hsm (BYOK) blob is not supported.');
  switch (kty) {
    case 'RSA':
    case 'RSA-HSM':
      return importRsa(jwk);
    case 'EC':
    case 'EC-HSM':
      return importEc(jwk);
    default:
      throw new BadParameter(`Unsupported key type '${printable(kty)}' for import: expected RSA, RSA-HSM, EC or EC-HSM.`);
  }
}

export function publicKeyObject(jwk: PublicJwk): KeyObject {
  const kind = kindOfKty(jwk.kty);
  try {
    if (kind === 'RSA') {
      const n = member(jwk as unknown as Record<string, unknown>, 'n');
      const e = member(jwk as unknown as Record<string, unknown>, 'e');
      return createPublicKey({ key: { kty: 'RSA', n: unsigned(n).toString('base64url'), e: unsigned(e).toString('base64url') }, format: 'jwk' });
    }
    const curve = azureCurve(jwk.crv);
    if (!curve) throw new BadParameter(`Unsupported curve '${printable(String(jwk.crv))}': expected ${CURVES.join(', ')}.`);
    const { size, jwk: crv } = CURVE_INFO[curve];
    const x = fixed(member(jwk as unknown as Record<string, unknown>, 'x'), size, 'x');
    const y = fixed(member(jwk as unknown as Record<string, unknown>, 'y'), size, 'y');
    return createPublicKey({ key: { kty: 'EC', crv, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
  } catch (error) {
    if (error instanceof BadParameter) throw error;
    throw new BadParameter('The key is not a valid public JSON Web Key.');
  }
}

export function privateKeyObject(pkcs8: Buffer): KeyObject {
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/** From a DER SubjectPublicKeyInfo (what AWS KMS GetPublicKey returns) to the Azure public JWK. */
export function publicJwkFromSpki(spki: Uint8Array): PublicJwk & { keySize?: number } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
  } catch {
    throw new BadParameter('The public key is not a valid DER SubjectPublicKeyInfo.');
  }
  const jwk = toPublicJwk(key);
  return jwk.kty === 'RSA' ? { ...jwk, keySize: key.asymmetricKeyDetails?.modulusLength ?? rsaKeySize(jwk) } : jwk;
}

/** Modulus length in bits. */
export function rsaKeySize(jwk: PublicJwk): number {
  if (kindOfKty(jwk.kty) !== 'RSA') throw new BadParameter('Only RSA keys have a modulus size.');
  return bitLength(unsigned(member(jwk as unknown as Record<string, unknown>, 'n')));
}

// ---------------------------------------------------------------------------------------------

function importRsa(jwk: Record<string, unknown>): GeneratedKey & { kind: 'RSA' } {
  const parts = Object.fromEntries(
    (['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((name) => [name, toBigInt(unsigned(member(jwk, name)))]),
  ) as Record<'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi', bigint>;
  const { n, e, d, p, q, dp, dq, qi } = parts;
  const keySize = bigintBitLength(n);
  if (!(RSA_KEY_SIZES as readonly number[]).includes(keySize)) {
    throw new BadParameter(`Unsupported RSA key size ${keySize} bits: expected ${RSA_KEY_SIZES.join(', ')}.`);
  }
  if (e < 3n || e % 2n === 0n || e >= n) throw new BadParameter("The RSA public exponent 'e' is invalid.");
  // The CRT members are what OpenSSL actually signs and decrypts with, so an inconsistent set would
  // produce signatures that fail against 'n' and 'e': check every relation, not just n = p*q.
  const one = 1n;
  if (p <= one || q <= one || p * q !== n) throw new BadParameter("The RSA private key does not match the public key: 'p' * 'q' is not 'n'.");
  if (d <= one || d >= n) throw new BadParameter("The RSA private exponent 'd' is out of range.");
  const lambda = lcm(p - one, q - one);
  if ((d * e) % lambda !== one) throw new BadParameter("The RSA private key does not match the public key: 'd' is not the inverse of 'e'.");
  if (dp !== d % (p - one) || dq !== d % (q - one)) throw new BadParameter("The RSA CRT exponents 'dp' and 'dq' do not match 'd'.");
  if (qi <= 0n || qi >= p || (qi * q) % p !== one) throw new BadParameter("The RSA CRT coefficient 'qi' does not match 'p' and 'q'.");

  const canonical = Object.fromEntries(Object.entries(parts).map(([name, value]) => [name, fromBigInt(value).toString('base64url')]));
  const privateKey = nodePrivateKey({ kty: 'RSA', ...canonical });
  return { kind: 'RSA', publicJwk: toPublicJwk(createPublicKey(privateKey)), privatePkcs8: pkcs8Of(privateKey), keySize };
}

function importEc(jwk: Record<string, unknown>): GeneratedKey & { kind: 'EC' } {
  if (jwk.crv === undefined) throw new BadParameter("The key is missing the required member 'crv'.");
  const curve = azureCurve(jwk.crv);
  if (!curve) throw new BadParameter(`Unsupported curve '${printable(String(jwk.crv))}': expected ${CURVES.join(', ')}.`);
  const info = CURVE_INFO[curve];
  const x = fixed(member(jwk, 'x'), info.size, 'x');
  const y = fixed(member(jwk, 'y'), info.size, 'y');
  const d = fixed(member(jwk, 'd'), info.size, 'd');
  // OpenSSL refuses a scalar outside 1..n-1 and computes d*G; d*G = (x, y) also proves (x, y) is on
  // the curve, which node:crypto would otherwise not check here.
  const ecdh = createECDH(info.openssl);
  try {
    ecdh.setPrivateKey(d);
  } catch {
    throw new BadParameter("The EC private key 'd' is out of range for the curve.");
  }
  const derived = ecdh.getPublicKey();
  if (!derived.equals(Buffer.concat([Buffer.from([4]), x, y]))) {
    throw new BadParameter("The EC private key does not match the public key: 'd' does not produce ('x', 'y').");
  }
  const privateKey = nodePrivateKey({
    kty: 'EC',
    crv: info.jwk,
    x: x.toString('base64url'),
    y: y.toString('base64url'),
    d: d.toString('base64url'),
  });
  return { kind: 'EC', publicJwk: toPublicJwk(createPublicKey(privateKey)), privatePkcs8: pkcs8Of(privateKey), curve };
}

function nodePrivateKey(jwk: JsonWebKey): KeyObject {
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new BadParameter('The key could not be imported: it is not a valid private key.');
  }
}

function toPublicJwk(key: KeyObject): PublicJwk {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) return { kty: 'RSA', n: jwk.n, e: jwk.e };
  const curve = azureCurve(jwk.crv);
  if (jwk.kty === 'EC' && curve && jwk.x && jwk.y) return { kty: 'EC', crv: curve, x: jwk.x, y: jwk.y };
  throw new BadParameter(`Unsupported public key: expected RSA or EC on ${CURVES.join(', ')}.`);
}

function pkcs8Of(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' });
}

function assertRsaSize(keySize: number): void {
  if (!(RSA_KEY_SIZES as readonly number[]).includes(keySize)) {
    throw new BadParameter(`Unsupported RSA key size ${printable(String(keySize))}: expected ${RSA_KEY_SIZES.join(', ')}.`);
  }
}

function kindOfKty(kty: unknown): KeyKind {
  if (kty === 'RSA' || kty === 'RSA-HSM') return 'RSA';
  if (kty === 'EC' || kty === 'EC-HSM') return 'EC';
  throw new BadParameter(`Unsupported key type '${printable(String(kty))}': expected RSA or EC.`);
}

/** A required base64url member, decoded. Standard padding is tolerated; anything else is not. */
function member(jwk: Record<string, unknown>, name: string): Buffer {
  const value = jwk[name];
  if (value === undefined || value === null || value === '') throw new BadParameter(`The key is missing the required member '${name}'.`);
  if (typeof value !== 'string') throw new BadParameter(`The key member '${name}' must be a base64url string.`);
  const unpadded = value.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(unpadded) || unpadded.length % 4 === 1) {
    throw new BadParameter(`The key member '${name}' is not valid base64url.`);
  }
  return Buffer.from(unpadded, 'base64url');
}

/** Big-endian integer bytes without leading zeros: some encoders keep a two's-complement sign byte. */
function unsigned(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** A fixed-width field element; shorter encodings (leading zeros stripped) are left-padded. */
function fixed(bytes: Buffer, size: number, name: string): Buffer {
  const value = unsigned(bytes);
  if (value.length > size) throw new BadParameter(`The key member '${name}' is too long for the curve.`);
  const out = Buffer.alloc(size);
  value.copy(out, size - value.length);
  return out;
}

function bitLength(bytes: Buffer): number {
  const first = bytes[0] ?? 0;
  return first === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(first));
}

function bigintBitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function fromBigInt(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 37)}...` : clean;
}
