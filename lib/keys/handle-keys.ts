import type { Curve } from './algorithms.ts';
import type { KeyPlain } from './layout.ts';
import type { KeyOperationInput, VerifyInput } from './schemas.ts';

export type CryptoOperation = 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey' | 'sign' | 'verify';

/** A managed HSM pool's key families: RSA-HSM, EC-HSM and oct-HSM (AES) without the suffix. */
export type HandleKeyKind = 'RSA' | 'EC' | 'oct';

export type HandleKeyRequest = { kind: 'RSA'; keySize: number } | { kind: 'EC'; curve: Curve } | { kind: 'oct'; keySize: number };

/** What a key operation answers: the result bytes, and for AES-GCM the iv, tag and additional data it used. */
export interface HandleKeyResult {
  result: Uint8Array;
  iv?: Uint8Array;
  tag?: Uint8Array;
  aad?: Uint8Array;
}

/**
 * The second HSM-material port of the keys domain, beside KMS's HsmKeys (docs/adr/0024-keys-in-pools.md):
 * an HSM that keeps each key version's material under an opaque handle and performs every operation
 * of it itself, as a managed HSM pool's HSM does (lib/hsm/pool-keys.ts adapts the pool's PoolHsm).
 * One RSA key both signs and decrypts; the keys domain still checks the version's attributes and
 * key_ops before any call, and stores only the handle and the public part.
 */
export interface HandleKeys {
  /** A new key generated in the HSM: its handle and public part as a version's plain facts (kty, hsmHandle, n/e, crv/x/y, keySize). */
  generate(request: HandleKeyRequest): Promise<Omit<KeyPlain, 'keyOps'>>;
  /** A caller's AES key (an import's `k`) made a key of the HSM: its handle and size as a version's plain facts. */
  importSymmetric(material: Uint8Array): Promise<Omit<KeyPlain, 'keyOps'>>;
  /** A caller's RSA or EC private key (PKCS#8) made a key of the HSM: its handle and public part. */
  importPrivate(pkcs8: Uint8Array): Promise<Omit<KeyPlain, 'keyOps'>>;
  /** The six operations, all inside the HSM, with the algorithm's own parameters (iv, aad, tag) from the request. */
  operate(plain: KeyPlain, operation: CryptoOperation, input: KeyOperationInput | VerifyInput): Promise<HandleKeyResult | { valid: boolean }>;
  randomBytes(count: number): Promise<Uint8Array>;
  /** Removes the material of a purged version; false when the HSM held no such key. */
  destroy(handle: string): Promise<boolean>;
}
