import type { PlainMetadata, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { Curve, KeyKind } from './algorithms.ts';
import type { HsmKeyUsage } from './hsm.ts';
import type { GeneratedKey, PublicJwk } from './jwk.ts';

/**
 * How a key version is stored: public material and service-owned facts in the clear (`plain`), tags
 * sealed (`meta`), and for software keys the PKCS#8 private key sealed (`secret`).
 */
export const ROTATION_POLICY = 'rotationpolicy';

/** The stored kty keeps the -HSM suffix that the public JWK drops; oct-HSM (AES) keys are a managed HSM pool's only. */
export type KeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM' | 'oct-HSM';

/** What a key version keeps in the clear: public material and service-owned facts. */
export interface KeyPlain {
  kty: KeyType;
  keyOps: string[];
  n?: string;
  e?: string;
  crv?: Curve;
  x?: string;
  y?: string;
  keySize?: number;
  publicExponent?: number;
  /** HSM keys: the KMS key holding this version's material, and what KMS lets it do. */
  hsmArn?: string;
  hsmUsage?: HsmKeyUsage;
  /** A managed HSM pool's keys: the handle of this version's material in the pool's HSM (handle-keys.ts). */
  hsmHandle?: string;
  managed?: boolean;
}

export interface KeyMeta {
  tags?: Record<string, string>;
}

export function plainOf(version: { plain: PlainMetadata }): KeyPlain {
  return version.plain as unknown as KeyPlain;
}

export function storedPlain(plain: KeyPlain): PlainMetadata {
  return plain as unknown as PlainMetadata;
}

export function kindOf(plain: KeyPlain): KeyKind {
  return plain.kty.startsWith('RSA') ? 'RSA' : 'EC';
}

/** An AES key's public part is its type alone: Key Vault answers no `k`. */
export function publicJwkOf(plain: KeyPlain): PublicJwk {
  if (plain.kty === 'oct-HSM') return { kty: 'oct' };
  return plain.kty.startsWith('RSA') ? { kty: 'RSA', n: plain.n!, e: plain.e! } : { kty: 'EC', crv: plain.crv!, x: plain.x!, y: plain.y! };
}

export function publicPlain(jwk: PublicJwk): Pick<KeyPlain, 'n' | 'e' | 'crv' | 'x' | 'y'> {
  return jwk.kty === 'RSA' ? { n: jwk.n!, e: jwk.e! } : { crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
}

export function sizeOf(key: GeneratedKey): Pick<KeyPlain, 'keySize'> {
  return key.keySize ? { keySize: key.keySize } : {};
}

export function softwarePlain(kind: KeyKind, key: GeneratedKey, keyOps: string[], publicExponent: number | undefined): KeyPlain {
  return {
    ...publicPlain(key.publicJwk),
    kty: kind,
    keyOps,
    ...sizeOf(key),
    ...(publicExponent !== undefined ? { publicExponent } : {}),
  };
}

/** The pool HSM handles of these versions (a managed HSM pool's versions only). */
export function hsmHandlesOf(versions: Pick<StoredVersion, 'plain'>[]): string[] {
  return versions.flatMap((version) => {
    const handle = plainOf(version).hsmHandle;
    return handle ? [handle] : [];
  });
}

/** The KMS keys of these versions (HSM versions only). */
export function hsmArnsOf(versions: Pick<StoredVersion, 'plain'>[]): string[] {
  return versions.flatMap((version) => {
    const arn = plainOf(version).hsmArn;
    return arn ? [arn] : [];
  });
}

export function metaOf(tags: Record<string, string> | null | undefined): KeyMeta {
  return tags != null ? { tags } : {};
}

/** What a version's KMS key is tagged with, so IAM can scope the functions to their vault's keys. */
export function kmsTags(at: VaultAddress, name: string, version: string): Record<string, string> {
  return { 'coffer:vault': at.vault.name, 'coffer:tenant': at.vault.tenantId, 'coffer:key': `${name}/${version}` };
}
