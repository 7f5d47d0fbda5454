/**
 * Sign and Verify as KMS does them. RAW messages go through node:crypto, which hashes them itself.
 * DIGEST messages are already hashed, which node:crypto has no API for, so they take the paths Key
 * Vault's software keys use: lib/crypto/rsa-digest.ts for RSA, and lib/crypto/ecdsa-digest.ts
 * (through lib/keys/software.ts) for ECDSA, whose raw R||S is converted to and from the DER that
 * KMS speaks. The unit tests cross-check every DIGEST path against node:crypto's RAW one.
 */
import { constants, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { derToRaw, rawToDer } from '#lib/crypto/ecdsa-signature';
import { signRsaDigest, verifyRsaDigest } from '#lib/crypto/rsa-digest';
import type { Curve } from '#lib/keys/algorithms';
import { azureCurve } from '#lib/keys/jwk';
import { signEcdsaDigest, verifyEcdsaDigest } from '#lib/keys/software';
import { SIGNING } from './specs.ts';
import type { SigningAlgorithm } from './specs.ts';

export type MessageType = 'RAW' | 'DIGEST';

export function signMessage(privateKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, messageType: MessageType): Buffer {
  const info = SIGNING[algorithm];
  if (messageType === 'RAW') return sign(info.hash, message, nodeOptions(privateKey, algorithm));
  if (info.scheme === 'ecdsa') {
    const curve = curveOf(privateKey);
    return rawToDer(signEcdsaDigest(privateKey, curve, message), curve);
  }
  return signRsaDigest(privateKey, info.scheme, info.hash, message);
}

export function verifySignature(
  publicKey: KeyObject,
  algorithm: SigningAlgorithm,
  message: Buffer,
  messageType: MessageType,
  signature: Buffer,
): boolean {
  const info = SIGNING[algorithm];
  try {
    if (messageType === 'RAW') return verify(info.hash, message, nodeOptions(publicKey, algorithm), signature);
    if (info.scheme === 'ecdsa') {
      const curve = curveOf(publicKey);
      // derToRaw throws on anything but strict DER, which KMS would not have produced or accepted.
      return verifyEcdsaDigest(publicKey, curve, message, derToRaw(signature, curve));
    }
    return verifyRsaDigest(publicKey, info.scheme, info.hash, message, signature);
  } catch {
    // A signature that does not even decode (OpenSSL: wrong length, bad padding, s >= n; or malformed
    // DER) is invalid, which Verify reports as such rather than as a failure.
    return false;
  }
}

function nodeOptions(key: KeyObject, algorithm: SigningAlgorithm) {
  const info = SIGNING[algorithm];
  if (info.scheme === 'pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: info.digestLength };
  if (info.scheme === 'pkcs1') return { key, padding: constants.RSA_PKCS1_PADDING };
  return { key, dsaEncoding: 'der' as const };
}

function curveOf(key: KeyObject): Curve {
  const curve = azureCurve(key.asymmetricKeyDetails?.namedCurve);
  if (!curve) throw new Error(`No ECDSA support for curve ${key.asymmetricKeyDetails?.namedCurve}.`);
  return curve;
}
