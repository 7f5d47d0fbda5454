/**
 * Sign and Verify as KMS does them. RAW messages go through node:crypto, which hashes them itself.
 * DIGEST messages are already hashed, which node:crypto has no API for, so the padding (PSS,
 * PKCS#1 v1.5 DigestInfo) is built here and applied with the raw RSA primitive, and ECDSA goes
 * through ./ecdsa.ts. The unit tests cross-check every DIGEST path against node:crypto's RAW one.
 */
import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { fromBytes, signDigest as ecdsaSignDigest, verifyDigest as ecdsaVerifyDigest } from './ecdsa.ts';
import { SIGNING } from './specs.ts';
import type { Curve, HashName, SigningAlgorithm } from './specs.ts';

export type MessageType = 'RAW' | 'DIGEST';

export function signMessage(privateKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, messageType: MessageType): Buffer {
  const info = SIGNING[algorithm];
  if (messageType === 'RAW') return sign(info.hash, message, nodeOptions(privateKey, algorithm));
  if (info.scheme === 'ecdsa') {
    const jwk = privateKey.export({ format: 'jwk' });
    return ecdsaSignDigest(curveOf(privateKey), fromBytes(Buffer.from(jwk.d!, 'base64url')), message);
  }
  const modulusBytes = rsaModulusBytes(privateKey);
  const encoded =
    info.scheme === 'pkcs1'
      ? digestInfo(info.hash, message)
      : emsaPssEncode(info.hash, message, (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) - 1, modulusBytes);
  // PKCS#1 v1.5 type-1 padding is what privateEncrypt applies; PSS arrives fully encoded.
  return privateEncrypt({ key: privateKey, padding: info.scheme === 'pkcs1' ? constants.RSA_PKCS1_PADDING : constants.RSA_NO_PADDING }, encoded);
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
      const jwk = publicKey.export({ format: 'jwk' });
      const point = { x: fromBytes(Buffer.from(jwk.x!, 'base64url')), y: fromBytes(Buffer.from(jwk.y!, 'base64url')) };
      return ecdsaVerifyDigest(curveOf(publicKey), point, message, signature);
    }
    const modulusBytes = rsaModulusBytes(publicKey);
    if (signature.length !== modulusBytes) return false;
    if (info.scheme === 'pkcs1') {
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      const expected = digestInfo(info.hash, message);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    const encoded = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
    return emsaPssVerify(info.hash, message, encoded, (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) - 1);
  } catch {
    // OpenSSL throws on signatures that do not even decode (wrong length, bad padding, s >= n).
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
  return key.asymmetricKeyDetails?.namedCurve as Curve;
}

function rsaModulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

// DER of AlgorithmIdentifier + OCTET STRING header that prefix the digest (RFC 8017, 9.2 note 1).
const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function digestInfo(hash: HashName, digest: Buffer): Buffer {
  return Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
}

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017, 9.1.1) with salt length = digest length, left-padded to the modulus size. */
function emsaPssEncode(hash: HashName, mHash: Buffer, emBits: number, modulusBytes: number): Buffer {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new Error('modulus too small for PSS');
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([0x01]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return Buffer.concat([Buffer.alloc(modulusBytes - emLen), em]);
}

/** EMSA-PSS-VERIFY (RFC 8017, 9.1.2) on the output of the raw RSA public operation. */
function emsaPssVerify(hash: HashName, mHash: Buffer, decrypted: Buffer, emBits: number): boolean {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  const leading = decrypted.subarray(0, decrypted.length - emLen);
  if (leading.some((byte) => byte !== 0)) return false;
  const em = decrypted.subarray(decrypted.length - emLen);
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
