import { BadParameter } from '../core/errors.ts';
import { printable } from '../objects/rules.ts';
import type { Vault } from '../vaults/vault.ts';
import { ALL_KEY_OPS, type Curve, CURVES, defaultKeyOps, type KeyKind, RSA_KEY_SIZES } from './algorithms.ts';
import type { HandleKeyKind, HandleKeyRequest } from './handle-keys.ts';
import { type HsmKeyUsage, opsAllowedByUsage } from './hsm.ts';

/** What a key request may ask for (reference §3); each refusal is Azure's 400 wording. */
export const KEY_TAG_LIMITS = { maxTags: 15, maxLength: 256 };

/** A create request's kty: the key family and whether it lives in an HSM. */
export function parseKeyType(vault: Vault, kty: string): { kind: KeyKind; hsm: boolean } {
  switch (kty) {
    case 'RSA':
    case 'EC':
      return { kind: kty, hsm: false };
    case 'RSA-HSM':
    case 'EC-HSM':
      assertPremium(vault, kty);
      return { kind: kty === 'RSA-HSM' ? 'RSA' : 'EC', hsm: true };
    case 'oct':
    case 'oct-HSM':
      throw new BadParameter(
        `Key type '${kty}' is not supported in this vault: symmetric keys need a Managed HSM, and Coffer vaults hold RSA and EC keys.`,
      );
    default:
      throw new BadParameter(`Invalid key type '${printable(kty)}': expected RSA, RSA-HSM, EC or EC-HSM.`);
  }
}

/**
 * Secure key release and key attestation need an attested HSM platform this vault does not have;
 * until they exist, they answer Azure's not-supported 400 rather than a 405 or a 404.
 */
export function secureKeyReleaseNotSupported(): BadParameter {
  return new BadParameter('Secure key release is not supported by this vault: keys cannot be released to an attested environment.');
}

export function keyAttestationNotSupported(): BadParameter {
  return new BadParameter('Key attestation is not supported by this vault: its keys carry no HSM attestation.');
}

export function assertPremium(vault: Vault, kty: string): void {
  if (vault.sku !== 'premium') throw new BadParameter(`Key type '${kty}' requires a premium vault; this vault is standard.`);
}

/** `crv` belongs to EC keys, `key_size` and `public_exponent` to RSA keys. */
export function assertParametersFit(kind: KeyKind, input: { crv?: string | null; key_size?: number | null; public_exponent?: number | null }): void {
  if (input.crv != null && kind !== 'EC') throw new BadParameter(`The 'crv' parameter is only valid for EC keys.`);
  if ((input.key_size != null || input.public_exponent != null) && kind !== 'RSA') {
    throw new BadParameter(`The 'key_size' and 'public_exponent' parameters are only valid for RSA keys.`);
  }
}

export function assertKeyOps(ops: string[], kind: KeyKind): string[] {
  for (const op of ops) {
    if (!ALL_KEY_OPS.includes(op)) throw new BadParameter(`Invalid key operation '${printable(String(op))}'.`);
  }
  if (kind === 'EC') {
    const unsupported = ops.filter((op) => ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'].includes(op));
    if (unsupported.length) throw new BadParameter(`EC keys cannot ${unsupported.join(', ')}: they support sign and verify.`);
  }
  return [...new Set(ops)];
}

/** An update cannot give an HSM key operations its KMS key cannot perform. */
export function assertOpsPossible(usage: HsmKeyUsage, keyOps: string[]): void {
  const possible = opsAllowedByUsage(usage);
  const impossible = keyOps.filter((op) => !possible.includes(op));
  if (impossible.length) {
    throw new BadParameter(`This HSM-backed key's material can only ${possible.join(', ')}; it cannot ${impossible.join(', ')}.`);
  }
}

export function assertCurve(crv: string): Curve {
  if (!(CURVES as readonly string[]).includes(crv))
    throw new BadParameter(`Invalid curve '${printable(crv)}': expected P-256, P-384, P-521 or P-256K.`);
  return crv as Curve;
}

export function assertKeySize(size: number): number {
  if (!(RSA_KEY_SIZES as readonly number[]).includes(size)) throw new BadParameter(`Invalid RSA key size ${size}: expected 2048, 3072 or 4096.`);
  return size;
}

export function assertHsmExponent(publicExponent: number | undefined): void {
  if (publicExponent !== undefined && publicExponent !== 65537) {
    throw new BadParameter('RSA-HSM keys use the public exponent 65537.');
  }
}

/** Coffer has no secure key release, so no key may be exportable. */
export function assertNotExportable(exportable: boolean | null | undefined, releasePolicy: unknown): void {
  if (releasePolicy != null) throw new BadParameter('Key release policies (secure key release) are not supported by this vault.');
  if (exportable === true) throw new BadParameter('Exportable keys must have release policy.');
}

export function assertNoReleasePolicyUpdate(releasePolicy: unknown): void {
  if (releasePolicy != null) throw new BadParameter('Key release policies are not supported by this vault.');
}

export function assertRandomByteCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 128) throw new BadParameter("The 'count' parameter must be an integer between 1 and 128.");
}

export function decodeBase64Url(value: string, field: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new BadParameter(`The '${field}' parameter is not valid base64url.`);
  return Buffer.from(value, 'base64url');
}

const AES_KEY_SIZES: readonly number[] = [128, 192, 256];
const SYMMETRIC_OPS: readonly string[] = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];

/**
 * A managed HSM pool's create request: only -HSM types (a pool holds no software keys), RSA of 2048,
 * 3072 or 4096 bits with exponent 65537, EC on Key Vault's curves, AES of 128, 192 or 256 bits.
 */
export function handleKeyRequest(input: {
  kty: string;
  key_size?: number | null;
  crv?: string | null;
  public_exponent?: number | null;
}): HandleKeyRequest {
  switch (input.kty) {
    case 'RSA-HSM':
      assertParametersFit('RSA', input);
      assertHsmExponent(input.public_exponent ?? undefined);
      return { kind: 'RSA', keySize: assertKeySize(input.key_size ?? 2048) };
    case 'EC-HSM':
      assertParametersFit('EC', input);
      return { kind: 'EC', curve: assertCurve(input.crv ?? 'P-256') };
    case 'oct-HSM': {
      if (input.crv != null || input.public_exponent != null) {
        throw new BadParameter(`The 'crv' and 'public_exponent' parameters are not valid for oct-HSM keys.`);
      }
      const keySize = input.key_size ?? 256;
      if (!AES_KEY_SIZES.includes(keySize)) throw new BadParameter(`Invalid oct-HSM key size ${keySize}: expected 128, 192 or 256.`);
      return { kind: 'oct', keySize };
    }
    default:
      throw new BadParameter(`Key type '${printable(input.kty)}' is not supported by a managed HSM: it holds RSA-HSM, EC-HSM and oct-HSM keys only.`);
  }
}

/** A pool key's key_ops: RSA keys do all six, EC keys sign and verify, AES keys encrypt, decrypt, wrap and unwrap. */
export function assertHandleKeyOps(ops: string[], kind: HandleKeyKind): string[] {
  if (kind !== 'oct') return assertKeyOps(ops, kind);
  for (const op of ops) {
    if (!ALL_KEY_OPS.includes(op)) throw new BadParameter(`Invalid key operation '${printable(String(op))}'.`);
  }
  const unsupported = ops.filter((op) => op === 'sign' || op === 'verify');
  if (unsupported.length) throw new BadParameter(`oct keys cannot ${unsupported.join(', ')}: they encrypt, decrypt, wrap and unwrap.`);
  return [...new Set(ops)];
}

export function defaultHandleKeyOps(kind: HandleKeyKind): string[] {
  return kind === 'oct' ? [...SYMMETRIC_OPS] : defaultKeyOps(kind);
}

/** Whether an import's JWK is an AES key (`kty` oct or oct-HSM), which handleKeyMaterial reads. */
export function isSymmetricJwk(jwk: Record<string, unknown>): boolean {
  return jwk.kty === 'oct' || jwk.kty === 'oct-HSM';
}

/** An AES key a managed HSM pool imports (docs/adr/0024-keys-in-pools.md): `k` of 16, 24 or 32 bytes. */
export function handleKeyMaterial(jwk: Record<string, unknown>): Buffer {
  if (typeof jwk.k !== 'string') throw new BadParameter("An oct key to import needs its 'k'.");
  const material = decodeBase64Url(jwk.k, 'k');
  if (!AES_KEY_SIZES.includes(material.length * 8)) {
    material.fill(0);
    throw new BadParameter(`An oct-HSM key is 128, 192 or 256 bits, not ${material.length * 8}.`);
  }
  return material;
}
