/**
 * The rules a pool's key operation's input must meet before it reaches the HSM (Managed HSM's, JWA's
 * and the mechanisms' own limits), so a bad request is a precise 400 and never an HSM error that
 * could only be reported as a failure of the HSM. Pure: no key material passes through here.
 */
import { BadParameter } from '../core/errors.ts';
import {
  assertDigest,
  assertEncryptionAlgorithm,
  assertSignatureAlgorithm,
  CURVES,
  RSA_KEY_SIZES,
  type SignatureAlgorithm,
} from '../keys/algorithms.ts';
import type {
  AesCbcAlgorithm,
  AesGcmAlgorithm,
  AesKeyWrapAlgorithm,
  HsmDecryption,
  HsmEncryption,
  HsmKeySpec,
  HsmWrapAlgorithm,
} from './hsm-keys.ts';

const AES_KEY_SIZES = [128, 192, 256] as const;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const AES_BLOCK_BYTES = 16;
const RANDOM_BYTES_LIMIT = 128;
const SIGNING_KEYS = 'RS256, RS384, RS512, PS256, PS384 and PS512 sign with RSA keys, ES256, ES384, ES512 and ES256K with EC keys';

const KEY_WRAP: readonly string[] = ['A128KW', 'A192KW', 'A256KW'];
const GCM: readonly string[] = ['A128GCM', 'A192GCM', 'A256GCM'];
const CBC: readonly string[] = ['A128CBC', 'A192CBC', 'A256CBC', 'A128CBCPAD', 'A192CBCPAD', 'A256CBCPAD'];

function isAesKeyWrap(algorithm: string): algorithm is AesKeyWrapAlgorithm {
  return KEY_WRAP.includes(algorithm);
}

export function isAesGcm(algorithm: string): algorithm is AesGcmAlgorithm {
  return GCM.includes(algorithm);
}

function isAesCbc(algorithm: string): algorithm is AesCbcAlgorithm {
  return CBC.includes(algorithm);
}

/** Throws BadParameter for a size or curve Key Vault does not offer. */
export function checkKeySpec(spec: HsmKeySpec): HsmKeySpec {
  const ok =
    spec.kty === 'RSA'
      ? (RSA_KEY_SIZES as readonly number[]).includes(spec.size)
      : spec.kty === 'EC'
        ? CURVES.includes(spec.curve)
        : (AES_KEY_SIZES as readonly number[]).includes(spec.size);
  if (!ok) {
    const what =
      spec.kty === 'RSA'
        ? 'RSA-HSM keys are 2048, 3072 or 4096 bits'
        : spec.kty === 'EC'
          ? 'EC-HSM curves are P-256, P-384, P-521 and P-256K'
          : 'oct-HSM keys are 128, 192 or 256 bits';
    throw new BadParameter(`Unsupported key: ${what}.`);
  }
  return spec;
}

/** The algorithm suits the key (RS/PS with RSA, each ES with its curve) and the digest has its length. */
export function checkSignature(spec: HsmKeySpec, algorithm: string, digest: Uint8Array): SignatureAlgorithm {
  if (spec.kty === 'oct') throw new BadParameter(`Keys of type 'oct' do not sign: ${SIGNING_KEYS}.`);
  const checked = assertSignatureAlgorithm(algorithm, spec.kty, spec.kty === 'EC' ? spec.curve : undefined);
  assertDigest(checked, digest);
  return checked;
}

/** RSA algorithms with RSA keys; AES algorithms with an AES key of their size and their iv, tag and block rules. */
export function checkEncryption(
  spec: HsmKeySpec,
  encryption: HsmEncryption | HsmDecryption,
  data: Uint8Array,
  direction: 'encrypt' | 'decrypt',
): void {
  const { algorithm } = encryption;
  if (spec.kty !== 'oct') {
    assertEncryptionAlgorithm(algorithm, spec.kty);
    if (spec.kty === 'RSA') checkRsaLength(spec.size, algorithm, data, direction);
    return;
  }
  checkAesAlgorithm(spec.size, algorithm);
  if (!('iv' in encryption)) throw new BadParameter(`Algorithm '${algorithm}' needs an iv.`);
  if (isAesGcm(algorithm)) {
    if (encryption.iv.length !== GCM_IV_BYTES)
      throw new BadParameter(`The iv of ${algorithm} is ${GCM_IV_BYTES} bytes, not ${encryption.iv.length}.`);
    if (direction === 'decrypt') {
      const tag = 'tag' in encryption ? encryption.tag : undefined;
      if (!tag) throw new BadParameter(`Decrypting with ${algorithm} needs the authentication tag.`);
      if (tag.length !== GCM_TAG_BYTES)
        throw new BadParameter(`The authentication tag of ${algorithm} is ${GCM_TAG_BYTES} bytes, not ${tag.length}.`);
    }
    return;
  }
  if (encryption.iv.length !== AES_BLOCK_BYTES)
    throw new BadParameter(`The iv of ${algorithm} is ${AES_BLOCK_BYTES} bytes, not ${encryption.iv.length}.`);
  const padded = algorithm.endsWith('PAD');
  if ((direction === 'decrypt' || !padded) && (data.length === 0 || data.length % AES_BLOCK_BYTES !== 0)) {
    const what = direction === 'decrypt' ? 'The ciphertext' : `The plaintext of ${algorithm} (no padding)`;
    throw new BadParameter(`${what} must be a non-empty multiple of ${AES_BLOCK_BYTES} bytes, not ${data.length}.`);
  }
}

/** RSA keys wrap with the RSA encryption algorithms; AES keys with AES key wrap of their own size over whole 8-byte blocks. */
export function checkWrap(spec: HsmKeySpec, algorithm: string, data: Uint8Array, direction: 'wrap' | 'unwrap'): HsmWrapAlgorithm {
  if (spec.kty !== 'oct') {
    const checked = assertEncryptionAlgorithm(algorithm, spec.kty);
    if (spec.kty === 'RSA') checkRsaLength(spec.size, checked, data, direction === 'wrap' ? 'encrypt' : 'decrypt');
    return checked;
  }
  if (!isAesKeyWrap(algorithm)) throw new BadParameter(`Keys of type 'oct' wrap with ${KEY_WRAP.join(', ')} only.`);
  checkAesAlgorithm(spec.size, algorithm);
  // RFC 3394: the key wrapped is at least two 64-bit blocks, and the wrapped form has one more.
  const least = direction === 'wrap' ? 16 : 24;
  if (data.length < least || data.length % 8 !== 0) {
    const what = direction === 'wrap' ? 'The key to wrap' : 'The wrapped key';
    throw new BadParameter(`${what} must be a multiple of 8 bytes and at least ${least} bytes for ${algorithm}, not ${data.length}.`);
  }
  return algorithm;
}

export function checkRandomCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > RANDOM_BYTES_LIMIT) {
    throw new BadParameter(`The count of random bytes must be an integer from 1 to ${RANDOM_BYTES_LIMIT}.`);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------

function checkAesAlgorithm(keyBits: number, algorithm: string): void {
  if (!isAesKeyWrap(algorithm) && !isAesGcm(algorithm) && !isAesCbc(algorithm)) {
    throw new BadParameter(`Keys of type 'oct' take ${[...KEY_WRAP, ...GCM, ...CBC].join(', ')} only.`);
  }
  const bits = Number(algorithm.slice(1, 4));
  if (bits !== keyBits) throw new BadParameter(`Algorithm '${algorithm}' needs a ${bits}-bit key; this key has ${keyBits} bits.`);
}

/** OAEP (RFC 8017 §7.1) takes at most k - 2hLen - 2 bytes, PKCS#1 v1.5 k - 11; a ciphertext is exactly k bytes. */
function checkRsaLength(modulusBits: number, algorithm: string, data: Uint8Array, direction: 'encrypt' | 'decrypt'): void {
  const k = modulusBits / 8;
  if (direction === 'decrypt') {
    if (data.length !== k) throw new BadParameter(`A ciphertext of this ${modulusBits}-bit key is ${k} bytes, not ${data.length}.`);
    return;
  }
  const hashBytes = algorithm === 'RSA-OAEP-256' ? 32 : 20;
  const limit = algorithm === 'RSA1_5' ? k - 11 : k - 2 * hashBytes - 2;
  if (data.length > limit)
    throw new BadParameter(`${algorithm} with this ${modulusBits}-bit key encrypts at most ${limit} bytes, not ${data.length}.`);
}
