import { type Deleted, managedOf, type ObjectRecord } from '../objects/records.ts';
import type { StoredVersion } from '../objects/store.ts';
import type { PublicJwk } from './jwk.ts';
import { type KeyMeta, type KeyType, plainOf, publicJwkOf } from './layout.ts';
import type { RotationPolicy } from './rotation.ts';

/** A key version as the service answers it: public material and plain facts, tags opened. */
export interface KeyRecord extends ObjectRecord {
  kty: KeyType;
  keyOps: string[];
  publicKey: PublicJwk;
  /** The material is in an HSM (KMS, or a managed HSM pool's), not sealed in the store. */
  hsmBacked: boolean;
}

export type DeletedKeyRecord = Deleted<KeyRecord>;

/** The result of encrypt, decrypt, wrapKey, unwrapKey or sign with one key version. */
export interface KeyOperationRecord {
  name: string;
  version: string;
  result: Uint8Array;
  /** AES-GCM in a managed HSM pool: the iv, authentication tag and additional data the operation used. */
  iv?: Uint8Array;
  tag?: Uint8Array;
  aad?: Uint8Array;
}

export interface VerifyRecord {
  name: string;
  version: string;
  valid: boolean;
}

/** A key's rotation policy, or the default one when none was set. */
export interface RotationPolicyRecord {
  name: string;
  policy: RotationPolicy;
}

export function keyRecord(version: StoredVersion, meta: KeyMeta): KeyRecord {
  const plain = plainOf(version);
  return {
    name: version.name,
    version: version.version,
    attributes: version.attributes,
    ...(meta.tags ? { tags: meta.tags } : {}),
    ...managedOf(version),
    kty: plain.kty,
    keyOps: plain.keyOps,
    publicKey: publicJwkOf(plain),
    hsmBacked: Boolean(plain.hsmArn ?? plain.hsmHandle),
  };
}
