import { BadParameter } from '../core/errors.ts';
import type { Curve, EncryptionAlgorithm, KeyKind, SignatureAlgorithm } from './algorithms.ts';

/** KMS key specs for HSM-backed Key Vault keys: the port speaks KMS's names, which every HSM adapter maps to. */
export type HsmKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1';
export type HsmKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
export type HsmSigningAlgorithm =
  | 'RSASSA_PSS_SHA_256'
  | 'RSASSA_PSS_SHA_384'
  | 'RSASSA_PSS_SHA_512'
  | 'RSASSA_PKCS1_V1_5_SHA_256'
  | 'RSASSA_PKCS1_V1_5_SHA_384'
  | 'RSASSA_PKCS1_V1_5_SHA_512'
  | 'ECDSA_SHA_256'
  | 'ECDSA_SHA_384'
  | 'ECDSA_SHA_512';
export type HsmEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';

/**
 * HSM-backed keys live in AWS KMS: one asymmetric KMS key per key version, material generated in
 * (or imported into) KMS and never returned. This is the port the keys domain uses; the KMS adapter
 * implements it.
 */
export interface HsmKeys {
  createHsmKey(spec: HsmKeySpec, usage: HsmKeyUsage, tags: Record<string, string>): Promise<string>;
  importHsmKey(spec: HsmKeySpec, usage: HsmKeyUsage, pkcs8: Uint8Array, tags: Record<string, string>): Promise<string>;
  publicKey(arn: string): Promise<Uint8Array>;
  signDigest(arn: string, algorithm: HsmSigningAlgorithm, digest: Uint8Array): Promise<Uint8Array>;
  decryptAsymmetric(arn: string, algorithm: HsmEncryptionAlgorithm, ciphertext: Uint8Array): Promise<Uint8Array | undefined>;
  /** Throws HsmKeyMissing when the KMS key is gone, pending deletion or has no material. */
  enableKey(arn: string): Promise<void>;
  disableKey(arn: string): Promise<void>;
  /** True if this call scheduled the deletion; false if the key was already pending deletion or gone. */
  scheduleKeyDeletion(arn: string): Promise<boolean>;
  /** True if the key was pending deletion and no longer is; false if it was not pending. Throws HsmKeyMissing when gone. */
  cancelKeyDeletion(arn: string): Promise<boolean>;
  randomBytes(count: number): Promise<Uint8Array>;
}

/** The KMS key a key version names no longer exists or can no longer be brought back. */
export class HsmKeyMissing extends Error {
  constructor(readonly arn: string) {
    super(`KMS key ${arn} no longer exists or has no key material`);
  }
}

const SIGNING_OPS = ['sign', 'verify'];
const ENCRYPTION_OPS = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

export function hsmKeySpec(kind: KeyKind, keySize: number | undefined, curve: Curve | undefined): HsmKeySpec {
  if (kind === 'RSA') {
    if (keySize === 2048 || keySize === 3072 || keySize === 4096) return `RSA_${keySize}`;
    throw new BadParameter(`RSA-HSM keys must be 2048, 3072 or 4096 bits.`);
  }
  switch (curve) {
    case 'P-256':
      return 'ECC_NIST_P256';
    case 'P-384':
      return 'ECC_NIST_P384';
    case 'P-521':
      return 'ECC_NIST_P521';
    case 'P-256K':
      return 'ECC_SECG_P256K1';
    default:
      throw new BadParameter(`Curve '${String(curve)}' is not supported for EC-HSM keys.`);
  }
}

/**
 * A KMS asymmetric key either signs or encrypts, never both, while an Azure RSA key may do both.
 * RSA-HSM keys therefore pick one use from key_ops: signing ops only -> SIGN_VERIFY, encryption ops
 * only -> ENCRYPT_DECRYPT; no key_ops -> ENCRYPT_DECRYPT with the encryption ops (the common use of
 * HSM RSA keys is wrapping data keys); both kinds -> a 400 that says why.
 */
export function hsmUsage(kind: KeyKind, requestedOps: string[] | undefined): { usage: HsmKeyUsage; keyOps: string[] } {
  if (kind === 'EC') {
    const ops = requestedOps ?? SIGNING_OPS;
    const unsupported = ops.filter((op) => !SIGNING_OPS.includes(op));
    if (unsupported.length) throw new BadParameter(`EC keys support only sign and verify, not ${unsupported.join(', ')}.`);
    return { usage: 'SIGN_VERIFY', keyOps: ops };
  }
  if (!requestedOps) return { usage: 'ENCRYPT_DECRYPT', keyOps: [...ENCRYPTION_OPS] };
  const signs = requestedOps.some((op) => SIGNING_OPS.includes(op));
  const encrypts = requestedOps.some((op) => ENCRYPTION_OPS.includes(op));
  if (signs && encrypts) {
    throw new BadParameter(
      'RSA-HSM keys are backed by AWS KMS, where an RSA key either signs or encrypts: give key_ops with sign/verify or with encrypt/decrypt/wrapKey/unwrapKey, not both.',
    );
  }
  return { usage: signs ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT', keyOps: requestedOps };
}

/** The operations a key version's KMS key can perform at all. */
export function opsAllowedByUsage(usage: HsmKeyUsage): string[] {
  return usage === 'SIGN_VERIFY' ? SIGNING_OPS : ENCRYPTION_OPS;
}

export function hsmSigningAlgorithm(alg: SignatureAlgorithm): HsmSigningAlgorithm {
  const table: Record<SignatureAlgorithm, HsmSigningAlgorithm> = {
    RS256: 'RSASSA_PKCS1_V1_5_SHA_256',
    RS384: 'RSASSA_PKCS1_V1_5_SHA_384',
    RS512: 'RSASSA_PKCS1_V1_5_SHA_512',
    PS256: 'RSASSA_PSS_SHA_256',
    PS384: 'RSASSA_PSS_SHA_384',
    PS512: 'RSASSA_PSS_SHA_512',
    ES256: 'ECDSA_SHA_256',
    ES256K: 'ECDSA_SHA_256',
    ES384: 'ECDSA_SHA_384',
    ES512: 'ECDSA_SHA_512',
  };
  return table[alg];
}

export function hsmEncryptionAlgorithm(alg: EncryptionAlgorithm): HsmEncryptionAlgorithm {
  if (alg === 'RSA1_5') {
    throw new BadParameter(
      "Algorithm 'RSA1_5' is not supported for HSM-backed keys: AWS KMS, which holds them, offers only RSA-OAEP and RSA-OAEP-256.",
    );
  }
  return alg === 'RSA-OAEP' ? 'RSAES_OAEP_SHA_1' : 'RSAES_OAEP_SHA_256';
}
