/**
 * The key specs the local KMS implements and what AWS allows for each, in the order AWS lists them
 * in DescribeKey / GetPublicKey, so callers that inspect the algorithm lists see what they would
 * see in the cloud.
 */
export const KEY_SPECS = [
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

/** Specs KMS has but this endpoint does not implement: asked for, they fail loudly instead of as typos. */
export const UNIMPLEMENTED_KEY_SPECS = [
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'SM2',
  'ECC_NIST_EDWARDS25519',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
] as const;

export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];
export const UNIMPLEMENTED_KEY_USAGES = ['GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];
/** Accepted on the wire (the SDK knows it) but refused for every key here, as AWS does outside China. */
export const ALL_ENCRYPTION_ALGORITHMS = [...ENCRYPTION_ALGORITHMS, 'SM2PKE'] as const;

export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export const ALL_SIGNING_ALGORITHMS = [...SIGNING_ALGORITHMS, 'SM2DSA', 'ED25519_SHA_512', 'ED25519_PH_SHA_512', 'ML_DSA_SHAKE_256'] as const;

export type HashName = 'sha256' | 'sha384' | 'sha512';

export interface SigningAlgorithmInfo {
  scheme: 'pss' | 'pkcs1' | 'ecdsa';
  hash: HashName;
  /** Digest length in bytes: what a DIGEST message must measure, and the PSS salt length. */
  digestLength: number;
}

export const SIGNING: Record<SigningAlgorithm, SigningAlgorithmInfo> = {
  RSASSA_PSS_SHA_256: { scheme: 'pss', hash: 'sha256', digestLength: 32 },
  RSASSA_PSS_SHA_384: { scheme: 'pss', hash: 'sha384', digestLength: 48 },
  RSASSA_PSS_SHA_512: { scheme: 'pss', hash: 'sha512', digestLength: 64 },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'pkcs1', hash: 'sha256', digestLength: 32 },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'pkcs1', hash: 'sha384', digestLength: 48 },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'pkcs1', hash: 'sha512', digestLength: 64 },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256', digestLength: 32 },
  ECDSA_SHA_384: { scheme: 'ecdsa', hash: 'sha384', digestLength: 48 },
  ECDSA_SHA_512: { scheme: 'ecdsa', hash: 'sha512', digestLength: 64 },
};

export type Curve = 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1';

export type SpecInfo =
  | { kind: 'symmetric'; usages: readonly KeyUsage[] }
  | { kind: 'rsa'; usages: readonly KeyUsage[]; modulusBits: number }
  | { kind: 'ec'; usages: readonly KeyUsage[]; curve: Curve; signing: readonly SigningAlgorithm[] };

const RSA_SIGNING: readonly SigningAlgorithm[] = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
];

export const SPECS: Record<KeySpec, SpecInfo> = {
  SYMMETRIC_DEFAULT: { kind: 'symmetric', usages: ['ENCRYPT_DECRYPT'] },
  RSA_2048: { kind: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], modulusBits: 2048 },
  RSA_3072: { kind: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], modulusBits: 3072 },
  RSA_4096: { kind: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], modulusBits: 4096 },
  // KMS pins each NIST curve to the hash of matching strength; secp256k1 (blockchain use) to SHA-256.
  ECC_NIST_P256: { kind: 'ec', usages: ['SIGN_VERIFY'], curve: 'prime256v1', signing: ['ECDSA_SHA_256'] },
  ECC_NIST_P384: { kind: 'ec', usages: ['SIGN_VERIFY'], curve: 'secp384r1', signing: ['ECDSA_SHA_384'] },
  ECC_NIST_P521: { kind: 'ec', usages: ['SIGN_VERIFY'], curve: 'secp521r1', signing: ['ECDSA_SHA_512'] },
  ECC_SECG_P256K1: { kind: 'ec', usages: ['SIGN_VERIFY'], curve: 'secp256k1', signing: ['ECDSA_SHA_256'] },
};

export function encryptionAlgorithmsFor(spec: KeySpec, usage: KeyUsage): EncryptionAlgorithm[] | undefined {
  if (usage !== 'ENCRYPT_DECRYPT') return undefined;
  return SPECS[spec].kind === 'symmetric' ? ['SYMMETRIC_DEFAULT'] : ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
}

export function signingAlgorithmsFor(spec: KeySpec, usage: KeyUsage): SigningAlgorithm[] | undefined {
  if (usage !== 'SIGN_VERIFY') return undefined;
  const info = SPECS[spec];
  if (info.kind === 'rsa') return [...RSA_SIGNING];
  if (info.kind === 'ec') return [...info.signing];
  return undefined;
}

/**
 * The largest plaintext RSA-OAEP can take: k - 2*hLen - 2. These are the figures the KMS developer
 * guide tabulates (214/190 bytes for RSA_2048, 342/318 for RSA_3072, 470/446 for RSA_4096).
 */
export function rsaOaepPlaintextLimit(modulusBits: number, algorithm: 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'): number {
  const hashLength = algorithm === 'RSAES_OAEP_SHA_1' ? 20 : 32;
  return modulusBits / 8 - 2 * hashLength - 2;
}

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];
export const ALL_WRAPPING_ALGORITHMS = [...WRAPPING_ALGORITHMS, 'RSAES_PKCS1_V1_5', 'SM2PKE'] as const;

const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];
export const ALL_WRAPPING_KEY_SPECS = [...WRAPPING_KEY_SPECS, 'SM2'] as const;
