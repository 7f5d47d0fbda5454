/**
 * Key Vault's algorithms as PKCS#11 mechanisms. Signatures are over the caller's digest: RS* sign
 * DigestInfo || digest with CKM_RSA_PKCS (RFC 8017 §9.2), PS* use CKM_RSA_PKCS_PSS with salt length =
 * digest length (what Key Vault produces), ES* use CKM_ECDSA, whose r || s is Key Vault's form too.
 */
import pkcs11js from 'pkcs11js';
import type { Curve, EncryptionAlgorithm, SignatureAlgorithm } from '../keys/algorithms.ts';
import { hashOf } from '../keys/algorithms.ts';
import type { HsmDecryption, HsmEncryption } from '../hsm/hsm-keys.ts';
import { digestInfo } from '../crypto/rsa-digest.ts';
import { isAesGcm } from '../hsm/hsm-key-rules.ts';

export type Mechanism = pkcs11js.Mechanism;

/** CKZ_DATA_SPECIFIED: OAEP's label source (an empty label); pkcs11js does not export the constant. */
const CKZ_DATA_SPECIFIED = 1;
export const GCM_TAG_BYTES = 16;

const HASH = {
  sha256: { hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, bytes: 32 },
  sha384: { hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, bytes: 48 },
  sha512: { hashAlg: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512, bytes: 64 },
};

/** The curves' named-curve OIDs, DER-encoded as CKA_EC_PARAMS takes them. */
export const CURVE_PARAMS: Record<Curve, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
  'P-521': Buffer.from('06052b81040023', 'hex'),
  'P-256K': Buffer.from('06052b8104000a', 'hex'),
};

/** The mechanism and the bytes it signs for a signature over `digest`. */
export function signatureMechanism(algorithm: SignatureAlgorithm, digest: Uint8Array): { mechanism: Mechanism; data: Buffer } {
  const hash = hashOf(algorithm);
  if (algorithm.startsWith('RS')) {
    return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS }, data: digestInfo(hash, digest) };
  }
  if (algorithm.startsWith('PS')) {
    const { hashAlg, mgf, bytes } = HASH[hash];
    const parameter: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg, mgf, saltLen: bytes };
    return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter }, data: Buffer.from(digest) };
  }
  return { mechanism: { mechanism: pkcs11js.CKM_ECDSA }, data: Buffer.from(digest) };
}

export function rsaEncryptionMechanism(algorithm: EncryptionAlgorithm): Mechanism {
  if (algorithm === 'RSA1_5') return { mechanism: pkcs11js.CKM_RSA_PKCS };
  const hash = algorithm === 'RSA-OAEP-256' ? HASH.sha256 : { hashAlg: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1 };
  // Every field is always set: pkcs11js frees a half-read parameter twice when a field is missing.
  const parameter: pkcs11js.RsaOAEP = {
    type: pkcs11js.CK_PARAMS_RSA_OAEP,
    hashAlg: hash.hashAlg,
    mgf: hash.mgf,
    source: CKZ_DATA_SPECIFIED,
    sourceData: Buffer.alloc(0),
  };
  return { mechanism: pkcs11js.CKM_RSA_PKCS_OAEP, parameter };
}

/** AES-GCM (96-bit iv, 128-bit tag) or AES-CBC, with or without PKCS#7 padding, with the caller's iv. */
export function aesMechanism(encryption: Extract<HsmEncryption | HsmDecryption, { iv: Uint8Array }>): Mechanism {
  const iv = Buffer.from(encryption.iv);
  if (isAesGcm(encryption.algorithm)) {
    const aad = 'additionalData' in encryption && encryption.additionalData ? Buffer.from(encryption.additionalData) : Buffer.alloc(0);
    const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: iv.length * 8, aad, tagBits: GCM_TAG_BYTES * 8 };
    return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
  }
  return { mechanism: encryption.algorithm.endsWith('PAD') ? pkcs11js.CKM_AES_CBC_PAD : pkcs11js.CKM_AES_CBC, parameter: iv };
}
