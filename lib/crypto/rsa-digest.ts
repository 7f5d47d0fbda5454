/**
 * RSA signatures over a digest the caller already computed. Key Vault (sign/verify) and KMS
 * (MessageType DIGEST) both take one, and node:crypto has no API for it: sign()/verify() always hash
 * the message themselves. So the encoding (PKCS#1 v1.5 DigestInfo, EMSA-PSS) is built here and
 * applied with OpenSSL's raw RSA primitive. PSS uses salt length = digest length, which is what
 * both services produce and expect.
 */
import { constants, hash as oneShotHash, type KeyObject, privateEncrypt, publicDecrypt, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';

export type RsaDigestScheme = 'pkcs1' | 'pss';
export type RsaDigestHash = 'sha256' | 'sha384' | 'sha512';

const DIGEST_LENGTH: Record<RsaDigestHash, number> = { sha256: 32, sha384: 48, sha512: 64 };

// DER of the AlgorithmIdentifier and OCTET STRING header that precede the digest (RFC 8017 §9.2, note 1).
const DIGEST_INFO_PREFIX: Record<RsaDigestHash, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/**
 * DigestInfo over the digest: what an RSASSA-PKCS1-v1_5 signature encodes (RFC 8017 §9.2). An HSM's
 * raw CKM_RSA_PKCS signs it as it is (lib/pkcs11/).
 */
export function digestInfo(hash: RsaDigestHash, digest: Uint8Array): Buffer {
  return Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
}

/** Throws BadParameter if the key is too small for PSS with this hash (never so for 2048 bits and up). */
export function signRsaDigest(privateKey: KeyObject, scheme: RsaDigestScheme, hash: RsaDigestHash, digest: Uint8Array): Buffer {
  const modulusBits = modulusBitsOf(privateKey);
  const mHash = checkedDigest(hash, digest);
  if (scheme === 'pkcs1') {
    // privateEncrypt with PKCS#1 padding applies exactly the signature (type 1) padding to DigestInfo.
    return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, mHash));
  }
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_NO_PADDING },
    emsaPssEncode(hash, mHash, modulusBits - 1, Math.ceil(modulusBits / 8)),
  );
}

/** False, not an error, for a wrong signature or a signature of the wrong length. */
export function verifyRsaDigest(
  publicKey: KeyObject,
  scheme: RsaDigestScheme,
  hash: RsaDigestHash,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const modulusBits = modulusBitsOf(publicKey);
  const mHash = checkedDigest(hash, digest);
  const sig = Buffer.from(signature);
  if (sig.length !== Math.ceil(modulusBits / 8)) return false;
  try {
    if (scheme === 'pkcs1') {
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
      const expected = digestInfo(hash, mHash);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    return emsaPssVerify(hash, mHash, publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, sig), modulusBits - 1);
  } catch {
    // OpenSSL throws on signatures that do not even decode: bad type-1 padding, or s >= n.
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

function modulusBitsOf(key: KeyObject): number {
  const bits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  if (!bits) throw new Error('Not an RSA key.');
  return bits;
}

/**
 * Both callers check the digest length against the algorithm and answer in their own protocol's
 * terms; this only stops a caller bug from producing a signature nobody can verify.
 */
function checkedDigest(hash: RsaDigestHash, digest: Uint8Array): Buffer {
  if (digest.length !== DIGEST_LENGTH[hash]) throw new Error(`A ${hash} digest is ${DIGEST_LENGTH[hash]} bytes, not ${digest.length}.`);
  return Buffer.from(digest);
}

/**
 * MGF1 (RFC 8017 B.2.1) with one-shot hashes: crypto.hash() costs half of a createHash() per block, and a
 * 2048-bit key takes seven blocks, which was most of what PSS added to OpenSSL's own signing.
 */
function mgf1(algorithm: RsaDigestHash, seed: Buffer, length: number): Buffer {
  const hLen = DIGEST_LENGTH[algorithm];
  const out = Buffer.allocUnsafe(Math.ceil(length / hLen) * hLen);
  const input = Buffer.alloc(seed.length + 4);
  seed.copy(input);
  for (let i = 0; i * hLen < length; i++) {
    input.writeUInt32BE(i, seed.length);
    oneShotHash(algorithm, input, 'buffer').copy(out, i * hLen);
  }
  return out.subarray(0, length);
}

/** H(0x00 x 8 || mHash || salt), the hash EMSA-PSS signs (RFC 8017 §9.1.1 steps 5-6). */
function pssHash(algorithm: RsaDigestHash, mHash: Buffer, salt: Buffer): Buffer {
  return oneShotHash(algorithm, Buffer.concat([Buffer.alloc(8), mHash, salt]), 'buffer');
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), salt length = digest length, left-padded to k bytes. */
function emsaPssEncode(hash: RsaDigestHash, mHash: Buffer, emBits: number, k: number): Buffer {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new BadParameter('The key is too small for this PSS algorithm.');
  const salt = randomBytes(sLen);
  const h = pssHash(hash, mHash, salt);
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([0x01]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  // Clearing the bits above emBits keeps EM below the modulus.
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) on the k-byte output of the raw public operation. */
function emsaPssVerify(hash: RsaDigestHash, mHash: Buffer, decoded: Buffer, emBits: number): boolean {
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
  const expected = pssHash(hash, mHash, salt);
  return timingSafeEqual(expected, h);
}
