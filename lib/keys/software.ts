/**
 * Cryptography for software-protected keys, and the public-key half of every key. Key Vault signs
 * and verifies a caller-computed digest, which node:crypto has no API for (it always hashes the
 * message itself), so: RSA padding (PKCS#1 v1.5 DigestInfo, EMSA-PSS) is built here and applied
 * with OpenSSL's raw RSA primitive, and ECDSA runs through @noble/curves with prehash disabled.
 * Encryption is plain node:crypto.
 */
import { constants, createHash, type KeyObject, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadParameter } from '../http/errors.ts';
import { ecdsaHalfSize } from '../crypto/ecdsa-signature.ts';
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

type HashName = 'sha256' | 'sha384' | 'sha512';

// DER of the AlgorithmIdentifier and OCTET STRING header that precede the digest (RFC 8017 §9.2, note 1).
const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const DECRYPT_FAILED = 'The ciphertext could not be decrypted with this key and algorithm.';

export function signDigest(privatePkcs8: Buffer, kind: KeyKind, curve: Curve | undefined, alg: SignatureAlgorithm, digest: Uint8Array): Buffer {
  const key = privateKeyObject(privatePkcs8);
  assertKeyMatches(key, kind, curve);
  assertSignatureAlgorithm(alg, kind, curve);
  assertDigest(alg, digest);
  const hash = hashOf(alg);
  const mHash = Buffer.from(digest);

  if (kind === 'EC') {
    const { noble, size } = curveInfo(curve!);
    const d = key.export({ format: 'jwk' }).d!;
    const secret = leftPad(Buffer.from(d, 'base64url'), size);
    // compact = raw R||S. noble normalises to low S; OpenSSL and every JOSE verifier accept either half.
    return Buffer.from(noble.sign(mHash, secret, { prehash: false, format: 'compact' }));
  }

  const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const k = Math.ceil(modulusBits / 8);
  if (alg.startsWith('RS')) {
    // privateEncrypt with PKCS#1 padding applies exactly the signature (type 1) padding to DigestInfo.
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_PREFIX[hash], mHash]));
  }
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, emsaPssEncode(hash, mHash, modulusBits - 1, k));
}

/** False, not an error, for a wrong signature or a signature of the wrong length. */
export function verifyDigest(publicJwk: PublicJwk, alg: SignatureAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const kind = kindOf(publicJwk);
  const curve = kind === 'EC' ? azureCurve(publicJwk.crv) : undefined;
  assertSignatureAlgorithm(alg, kind, curve);
  assertDigest(alg, digest);
  const hash = hashOf(alg);
  const mHash = Buffer.from(digest);
  const sig = Buffer.from(signature);

  if (kind === 'EC') {
    const size = ecdsaHalfSize(curve!);
    if (sig.length !== 2 * size) return false;
    const key = publicKeyObject(publicJwk);
    const jwk = key.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), leftPad(Buffer.from(jwk.x!, 'base64url'), size), leftPad(Buffer.from(jwk.y!, 'base64url'), size)]);
    try {
      // lowS: false because OpenSSL, KMS and other Azure clients produce high-S signatures too.
      return curveInfo(curve!).noble.verify(sig, mHash, point, { prehash: false, lowS: false, format: 'compact' });
    } catch {
      return false;
    }
  }

  const key = publicKeyObject(publicJwk);
  const modulusBits = rsaKeySize(publicJwk);
  const k = Math.ceil(modulusBits / 8);
  if (sig.length !== k) return false;
  try {
    if (alg.startsWith('RS')) {
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig);
      const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], mHash]);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    return emsaPssVerify(hash, mHash, publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, sig), modulusBits - 1);
  } catch {
    // OpenSSL throws on signatures that do not even decode: bad type-1 padding, or s >= n.
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

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, produced = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), salt length = digest length, left-padded to k bytes. */
function emsaPssEncode(hash: HashName, mHash: Buffer, emBits: number, k: number): Buffer {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new BadParameter('The key is too small for this PSS algorithm.');
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([0x01]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  // Clearing the bits above emBits keeps EM below the modulus.
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) on the k-byte output of the raw public operation. */
function emsaPssVerify(hash: HashName, mHash: Buffer, decoded: Buffer, emBits: number): boolean {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (decoded.subarray(0, decoded.length - emLen).some((byte) => byte !== 0)) return false;
  const em = decoded.subarray(decoded.length - emLen);
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topBits) !== 0) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  db[0] = db[0]! & topBits;
  const separator = emLen - hLen - sLen - 2;
  if (db.subarray(0, separator).some((byte) => byte !== 0) || db[separator] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(expected, h);
}
