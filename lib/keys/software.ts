/**
 * Cryptography for software-protected keys, and the public-key half of every key. Key Vault signs
 * and verifies a caller-computed digest, which node:crypto has no API for (it always hashes the
 * message itself), so: RSA goes through ../crypto/rsa-digest.ts, which builds the padding and
 * applies OpenSSL's raw RSA primitive, and ECDSA through ../crypto/ecdsa-digest.ts, which has OpenSSL
 * multiply the points. The local KMS emulator signs DIGEST messages with the same two paths.
 * Encryption is plain node:crypto.
 *
 * Parsing a key costs more than using it (a PKCS#8 parse is about a third of an RSA-2048 signature
 * and several P-256 ones), so private keys are opened once (openPrivateKey, kept by the opened-key
 * cache of ./operate.ts) and public keys are parsed once per process (a small cache below).
 */
import { constants, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { BadParameter } from '../core/errors.ts';
import {
  type EcdsaPrivateKey,
  type EcdsaPublicKey,
  ecdsaPrivateKey,
  ecdsaPublicKey,
  signEcdsa,
  verifyEcdsa,
  wipeEcdsaPrivateKey,
} from '../crypto/ecdsa-digest.ts';
import { ecdsaHalfSize } from '../crypto/ecdsa-signature.ts';
import { signRsaDigest, verifyRsaDigest } from '../crypto/rsa-digest.ts';
import {
  assertDigest,
  assertEncryptionAlgorithm,
  assertSignatureAlgorithm,
  type Curve,
  type EncryptionAlgorithm,
  hashOf,
  type KeyKind,
  type SignatureAlgorithm,
} from './algorithms.ts';
import { azureCurve, privateKeyObject, type PublicJwk, publicKeyObject, rsaKeySize } from './jwk.ts';

/**
 * A software key's private half, parsed once: RSA as OpenSSL's key object, EC as its private scalar
 * (ECDSA over a digest needs the scalar, not a key object). wipePrivateKey wipes what can be wiped.
 */
export type OpenedPrivateKey =
  | { readonly kind: 'RSA'; readonly rsa: KeyObject }
  | { readonly kind: 'EC'; readonly curve: Curve; readonly ec: EcdsaPrivateKey };

/** PKCS#8 DER (what the vault stores, sealed) -> an opened key. The bytes are not kept. */
export function openPrivateKey(pkcs8: Buffer): OpenedPrivateKey {
  const key = privateKeyObject(pkcs8);
  if (key.asymmetricKeyType === 'rsa') return { kind: 'RSA', rsa: key };
  const curve = key.asymmetricKeyType === 'ec' ? azureCurve(key.asymmetricKeyDetails?.namedCurve) : undefined;
  if (!curve) throw new Error('Key material is not an RSA key or an EC key on a supported curve.');
  const scalar = ecPrivateScalar(key);
  try {
    return { kind: 'EC', curve, ec: ecdsaPrivateKey(curve, scalar) };
  } finally {
    scalar.fill(0);
  }
}

/**
 * Zeroes the EC private scalar's bytes. JavaScript cannot wipe a bigint or a KeyObject: those go with
 * the last reference (OpenSSL clears a key's private numbers when it frees them).
 */
export function wipePrivateKey(key: OpenedPrivateKey): void {
  if (key.kind === 'EC') wipeEcdsaPrivateKey(key.ec);
}

const DECRYPT_FAILED = 'The ciphertext could not be decrypted with this key and algorithm.';

/** `privateKey` is an opened key, or PKCS#8 bytes opened for this one call. */
export function signDigest(
  privateKey: OpenedPrivateKey | Buffer,
  kind: KeyKind,
  curve: Curve | undefined,
  alg: SignatureAlgorithm,
  digest: Uint8Array,
): Buffer {
  return withOpened(privateKey, (key) => {
    assertKeyMatches(key, kind, curve);
    assertSignatureAlgorithm(alg, kind, curve);
    assertDigest(alg, digest);
    if (key.kind === 'EC') return signEcdsa(key.ec, digest);
    return signRsaDigest(key.rsa, alg.startsWith('RS') ? 'pkcs1' : 'pss', hashOf(alg), digest);
  });
}

/** False, not an error, for a wrong signature or a signature of the wrong length. */
export function verifyDigest(publicJwk: PublicJwk, alg: SignatureAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const kind = kindOf(publicJwk);
  const curve = kind === 'EC' ? azureCurve(publicJwk.crv) : undefined;
  assertSignatureAlgorithm(alg, kind, curve);
  assertDigest(alg, digest);
  if (kind === 'EC') {
    // Checked before the JWK is imported, so a wrong-length signature is false whatever the key.
    if (signature.length !== 2 * ecdsaHalfSize(curve!)) return false;
    return verifyEcdsa(parsedPublicKey(publicJwk).ec!, digest, signature);
  }
  return verifyRsaDigest(parsedPublicKey(publicJwk).key, alg.startsWith('RS') ? 'pkcs1' : 'pss', hashOf(alg), digest, signature);
}

/**
 * ECDSA over a caller-computed digest, as raw R||S (the JOSE form; KMS callers convert to DER), low S;
 * OpenSSL and every JOSE verifier accept either S half. The caller vouches that `curve` is the key's
 * curve. For the local KMS emulator, which holds key objects: the scalar is taken out per call.
 */
export function signEcdsaDigest(privateKey: KeyObject, curve: Curve, digest: Uint8Array): Buffer {
  const scalar = ecPrivateScalar(privateKey);
  const key = ecdsaPrivateKey(curve, scalar);
  scalar.fill(0);
  try {
    return signEcdsa(key, digest);
  } finally {
    wipeEcdsaPrivateKey(key);
  }
}

/** False, not an error, for a wrong signature or a raw R||S of the wrong length. */
export function verifyEcdsaDigest(publicKey: KeyObject, curve: Curve, digest: Uint8Array, signature: Uint8Array): boolean {
  return verifyEcdsa(ecPublicKey(publicKey, curve), digest, signature);
}

export function encrypt(publicJwk: PublicJwk, alg: EncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  assertEncryptionAlgorithm(alg, kindOf(publicJwk));
  const limit = maxPlaintextBytes(rsaKeySize(publicJwk), alg);
  if (plaintext.length > limit) throw new BadParameter(`The plaintext is too long for this key and algorithm: at most ${limit} bytes.`);
  return publicEncrypt({ key: parsedPublicKey(publicJwk).key, ...paddingOf(alg) }, plaintext);
}

/**
 * BadParameter with one generic message for any ciphertext that does not decrypt, so the response
 * is no padding oracle beyond what OAEP's own failure reveals. For RSA1_5 there is not even that:
 * OpenSSL >= 3.2 (Node 24 bundles 3.5) does implicit rejection (Marvin/CVE-2023-46809 fix), returning
 * a deterministic pseudo-random plaintext instead of an error when the padding is wrong.
 */
export function decrypt(privateKey: OpenedPrivateKey | Buffer, alg: EncryptionAlgorithm, ciphertext: Uint8Array): Buffer {
  return withOpened(privateKey, (opened) => {
    assertEncryptionAlgorithm(alg, opened.kind);
    const key = (opened as { rsa: KeyObject }).rsa;
    const k = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    // RFC 8017 §7.1.2/§7.2.2 step 1: the length is public, so saying so leaks nothing.
    if (ciphertext.length !== k) throw new BadParameter(`The ciphertext must be ${k} bytes for this key.`);
    try {
      return privateDecrypt({ key, ...paddingOf(alg) }, ciphertext);
    } catch (error) {
      if (alg === 'RSA1_5' && (error as { code?: string }).code === 'ERR_INVALID_ARG_VALUE') {
        // Node refuses PKCS#1 v1.5 decryption when its OpenSSL cannot do implicit rejection. Not the
        // caller's fault, and not something to work around in JS: surface it as a server error.
        throw new Error('RSA1_5 decryption needs a Node.js whose OpenSSL supports implicit rejection (OpenSSL 3.2 or later).');
      }
      throw new BadParameter(DECRYPT_FAILED);
    }
  });
}

/** Largest plaintext for the key size and padding: OAEP-SHA1 k-42, OAEP-SHA256 k-66, PKCS1 v1.5 k-11 (k = modulus bytes). */
export function maxPlaintextBytes(keySizeBits: number, alg: EncryptionAlgorithm): number {
  const k = Math.ceil(keySizeBits / 8);
  switch (alg) {
    case 'RSA-OAEP':
      return Math.max(0, k - 2 * 20 - 2);
    case 'RSA-OAEP-256':
      return Math.max(0, k - 2 * 32 - 2);
    case 'RSA1_5':
      return Math.max(0, k - 11);
  }
}

// ---------------------------------------------------------------------------------------------

function paddingOf(alg: EncryptionAlgorithm): { padding: number; oaepHash?: string } {
  switch (alg) {
    case 'RSA-OAEP':
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
    case 'RSA-OAEP-256':
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    case 'RSA1_5':
      return { padding: constants.RSA_PKCS1_PADDING };
  }
}

function kindOf(jwk: PublicJwk): KeyKind {
  const kty = jwk.kty as string;
  if (kty === 'RSA' || kty === 'RSA-HSM') return 'RSA';
  if (kty === 'EC' || kty === 'EC-HSM') return 'EC';
  throw new BadParameter('Unsupported key type: expected RSA or EC.');
}

/** The stored key and the caller's idea of it must agree, or the algorithm check below means nothing. */
function assertKeyMatches(key: OpenedPrivateKey, kind: KeyKind, curve: Curve | undefined): void {
  if (key.kind !== kind || (key.kind === 'EC' && key.curve !== curve)) {
    throw new Error(`Key material is not a ${kind}${curve ? ` ${curve}` : ''} key.`);
  }
}

/** Runs `use` on an opened key; PKCS#8 bytes are opened for the call and the opened copy wiped after. */
function withOpened<T>(privateKey: OpenedPrivateKey | Buffer, use: (key: OpenedPrivateKey) => T): T {
  if (!Buffer.isBuffer(privateKey)) return use(privateKey);
  const opened = openPrivateKey(privateKey);
  try {
    return use(opened);
  } finally {
    wipePrivateKey(opened);
  }
}

/** d out of an EC key object via its SEC 1 DER (RFC 5915), so the scalar is never a string. */
function ecPrivateScalar(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'sec1' });
  try {
    // SEQUENCE { INTEGER 1, OCTET STRING d, ... }; a SEQUENCE of up to 255 bytes has a 1- or 2-byte length.
    let offset = der[1]! === 0x81 ? 3 : 2;
    if (der[0] !== 0x30 || der[offset] !== 0x02 || der[offset + 1] !== 0x01 || der[offset + 2] !== 0x01) throw new Error();
    offset += 3;
    const length = der[offset + 1]!;
    if (der[offset] !== 0x04 || length >= 0x80 || offset + 2 + length > der.length) throw new Error();
    return Buffer.from(der.subarray(offset + 2, offset + 2 + length));
  } catch {
    throw new Error('Unexpected SEC 1 encoding of an EC private key.');
  } finally {
    der.fill(0);
  }
}

interface ParsedPublicKey {
  key: KeyObject;
  ec?: EcdsaPublicKey;
}

/**
 * Public keys parsed once per process: an RSA JWK import costs a third of a verification, an EC one
 * as much as a P-256 verification. Keyed by the members themselves, so a different key is a
 * different entry; public material, so nothing to wipe.
 */
const PUBLIC_KEYS = new LRUCache<string, ParsedPublicKey>({ max: 1000 });

function parsedPublicKey(jwk: PublicJwk): ParsedPublicKey {
  const id = `${jwk.kty}|${jwk.crv}|${jwk.n}|${jwk.e}|${jwk.x}|${jwk.y}`;
  let parsed = PUBLIC_KEYS.get(id);
  if (!parsed) {
    const key = publicKeyObject(jwk);
    const curve = key.asymmetricKeyType === 'ec' ? azureCurve(key.asymmetricKeyDetails?.namedCurve) : undefined;
    parsed = curve ? { key, ec: ecPublicKey(key, curve) } : { key };
    PUBLIC_KEYS.set(id, parsed);
  }
  return parsed;
}

function ecPublicKey(key: KeyObject, curve: Curve): EcdsaPublicKey {
  const jwk = key.export({ format: 'jwk' });
  return ecdsaPublicKey(curve, Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
}
