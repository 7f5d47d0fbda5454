import type { Curve } from '../crypto/ecdsa-signature.ts';
/**
 * The key types, curves and JWA algorithms Coffer supports for RSA and EC keys (reference §3), and
 * the rules that bind an algorithm to a key. Pure: no key material passes through here.
 */
import { BadParameter } from '../core/errors.ts';

/** The key family, without the -HSM suffix: protection level does not change which algorithms apply. */
export type KeyKind = 'RSA' | 'EC';
export type { Curve };
export type SignatureAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES256K' | 'ES384' | 'ES512';
export type EncryptionAlgorithm = 'RSA-OAEP' | 'RSA-OAEP-256' | 'RSA1_5';

export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;
export const CURVES: readonly Curve[] = Object.freeze(['P-256', 'P-384', 'P-521', 'P-256K'] as const);
export const ALL_KEY_OPS: readonly string[] = Object.freeze(['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey', 'import', 'export']);

type HashName = 'sha256' | 'sha384' | 'sha512';

interface SignatureInfo {
  hash: HashName;
  kind: KeyKind;
  /** ECDSA algorithms are each tied to one curve (JWA, RFC 7518 §3.4; ES256K from RFC 8812). */
  curve?: Curve;
}

const SIGNATURE: Record<SignatureAlgorithm, SignatureInfo> = {
  RS256: { hash: 'sha256', kind: 'RSA' },
  RS384: { hash: 'sha384', kind: 'RSA' },
  RS512: { hash: 'sha512', kind: 'RSA' },
  PS256: { hash: 'sha256', kind: 'RSA' },
  PS384: { hash: 'sha384', kind: 'RSA' },
  PS512: { hash: 'sha512', kind: 'RSA' },
  ES256: { hash: 'sha256', kind: 'EC', curve: 'P-256' },
  ES256K: { hash: 'sha256', kind: 'EC', curve: 'P-256K' },
  ES384: { hash: 'sha384', kind: 'EC', curve: 'P-384' },
  ES512: { hash: 'sha512', kind: 'EC', curve: 'P-521' },
};

const ENCRYPTION: readonly EncryptionAlgorithm[] = ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'];

const DIGEST_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

export function isSignatureAlgorithm(alg: string): alg is SignatureAlgorithm {
  return Object.hasOwn(SIGNATURE, alg);
}

export function isEncryptionAlgorithm(alg: string): alg is EncryptionAlgorithm {
  return (ENCRYPTION as readonly string[]).includes(alg);
}

/** The digest length in bytes an algorithm signs (RS256/PS256/ES256/ES256K: 32, *384: 48, *512: 64). */
export function digestLength(alg: SignatureAlgorithm): number {
  return DIGEST_LENGTH[SIGNATURE[alg].hash];
}

/** The hash name ('sha256' | 'sha384' | 'sha512'). */
export function hashOf(alg: SignatureAlgorithm): HashName {
  return SIGNATURE[alg].hash;
}

/**
 * Throws BadParameter unless `alg` suits a key of this kind/curve (ES256 only with P-256, ES256K only
 * with P-256K, ES384 with P-384, ES512 with P-521; RS/PS only with RSA).
 */
export function assertSignatureAlgorithm(alg: string, kind: KeyKind, curve?: Curve): SignatureAlgorithm {
  if (isSignatureAlgorithm(alg)) {
    const info = SIGNATURE[alg];
    if (info.kind === kind && (info.curve === undefined || info.curve === curve)) return alg;
  }
  throw new BadParameter(unsupported(alg, kind, curve));
}

export function assertEncryptionAlgorithm(alg: string, kind: KeyKind): EncryptionAlgorithm {
  // EC keys have no encryption algorithm at all: Key Vault offers no ECDH/ECIES.
  if (kind === 'RSA' && isEncryptionAlgorithm(alg)) return alg;
  throw new BadParameter(unsupported(alg, kind));
}

/** Throws BadParameter when the digest length does not match the algorithm. */
export function assertDigest(alg: SignatureAlgorithm, digest: Uint8Array): void {
  const expected = digestLength(alg);
  if (digest.length !== expected) {
    throw new BadParameter(`Invalid digest length ${digest.length} for algorithm '${alg}': expected ${expected} bytes.`);
  }
}

/** Azure's default key_ops: RSA -> ['encrypt','decrypt','sign','verify','wrapKey','unwrapKey'], EC -> ['sign','verify']. */
export function defaultKeyOps(kind: KeyKind): string[] {
  return kind === 'RSA' ? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] : ['sign', 'verify'];
}

function unsupported(alg: string, kind: KeyKind, curve?: Curve): string {
  const withCurve = kind === 'EC' && curve ? ` with curve '${curve}'` : '';
  return `Algorithm '${printable(alg)}' is not supported for key of type '${kind}'${withCurve}.`;
}

/** The algorithm name is caller input echoed into an error body and logs: keep it short and printable. */
function printable(value: string): string {
  const clean = String(value).replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 37)}...` : clean;
}
