/**
 * Cryptography for software-protected keys, and the public-key half of every key. Key Vault signs
 * and verifies a caller-computed digest, which node:crypto has no API for (it always hashes the
 * message itself), so: RSA goes through ../crypto/rsa-digest.ts, which builds the padding and
 * applies OpenSSL's raw RSA primitive, and ECDSA runs through @noble/curves with prehash disabled.
 * The local KMS emulator signs DIGEST messages with the same two paths. Encryption is plain
 * node:crypto.
 */
import { constants, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';
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
import { azureCurve, curveInfo, privateKeyObject, type PublicJwk, publicKeyObject, rsaKeySize } from './jwk.ts';

const DECRYPT_FAILED = 'The ciphertext could not be decrypted with this key and algorithm.';

export function signDigest(privatePkcs8: Buffer, kind: KeyKind, curve: Curve | undefined, alg: SignatureAlgorithm, digest: Uint8Array): Buffer {
  const key = privateKeyObject(privatePkcs8);
  assertKeyMatches(key, kind, curve);
  assertSignatureAlgorithm(alg, kind, curve);
  assertDigest(alg, digest);
  if (kind === 'EC') return signEcdsaDigest(key, curve!, digest);
  return signRsaDigest(key, alg.startsWith('RS') ? 'pkcs1' : 'pss', hashOf(alg), digest);
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
    return verifyEcdsaDigest(publicKeyObject(publicJwk), curve!, digest, signature);
  }
  return verifyRsaDigest(publicKeyObject(publicJwk), alg.startsWith('RS') ? 'pkcs1' : 'pss', hashOf(alg), digest, signature);
}

/**
 * ECDSA over a caller-computed digest, as raw R||S (the JOSE form; KMS callers convert to DER).
 * noble normalises to low S and derives the nonce per RFC 6979; OpenSSL and every JOSE verifier
 * accept either S half. The caller vouches that `curve` is the key's curve.
 */
export function signEcdsaDigest(privateKey: KeyObject, curve: Curve, digest: Uint8Array): Buffer {
  const { noble, size } = curveInfo(curve);
  const secret = leftPad(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'), size);
  return Buffer.from(noble.sign(digest, secret, { prehash: false, format: 'compact' }));
}

/** False, not an error, for a wrong signature or a raw R||S of the wrong length. */
export function verifyEcdsaDigest(publicKey: KeyObject, curve: Curve, digest: Uint8Array, signature: Uint8Array): boolean {
  const { noble, size } = curveInfo(curve);
  if (signature.length !== 2 * size) return false;
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), leftPad(Buffer.from(jwk.x!, 'base64url'), size), leftPad(Buffer.from(jwk.y!, 'base64url'), size)]);
  try {
    // lowS: false because OpenSSL, KMS and other Azure clients produce high-S signatures too.
    return noble.verify(signature, digest, point, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}

export function encrypt(publicJwk: PublicJwk, alg: EncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  assertEncryptionAlgorithm(alg, kindOf(publicJwk));
  const limit = maxPlaintextBytes(rsaKeySize(publicJwk), alg);
  if (plaintext.length > limit) throw new BadParameter(`The plaintext is too long for this key and algorithm: at most ${limit} bytes.`);
  return publicEncrypt({ key: publicKeyObject(publicJwk), ...paddingOf(alg) }, plaintext);
}

/**
 * BadParameter with one generic message for any ciphertext that does not decrypt, so the response
 * is no padding oracle beyond what OAEP's own failure reveals. For RSA1_5 there is not even that:
 * OpenSSL >= 3.2 (Node 24 bundles 3.5) does implicit rejection (Marvin/CVE-2023-46809 fix), returning
 * a deterministic pseudo-random plaintext instead of an error when the padding is wrong.
 */
export function decrypt(privatePkcs8: Buffer, alg: EncryptionAlgorithm, ciphertext: Uint8Array): Buffer {
  const key = privateKeyObject(privatePkcs8);
  assertEncryptionAlgorithm(alg, key.asymmetricKeyType === 'rsa' ? 'RSA' : 'EC');
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
function assertKeyMatches(key: KeyObject, kind: KeyKind, curve: Curve | undefined): void {
  const actualKind = key.asymmetricKeyType === 'rsa' ? 'RSA' : key.asymmetricKeyType === 'ec' ? 'EC' : undefined;
  const actualCurve = actualKind === 'EC' ? azureCurve(key.asymmetricKeyDetails?.namedCurve) : undefined;
  if (actualKind !== kind || (kind === 'EC' && actualCurve !== curve)) {
    throw new Error(`Key material is not a ${kind}${curve ? ` ${curve}` : ''} key.`);
  }
}

function leftPad(bytes: Buffer, size: number): Buffer {
  if (bytes.length >= size) return bytes;
  const out = Buffer.alloc(size);
  bytes.copy(out, size - bytes.length);
  return out;
}
