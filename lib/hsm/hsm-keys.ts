/**
 * What a managed HSM pool's key operations need from its HSM (docs/adr/0019-pkcs11-adapter.md): keys
 * generated inside the HSM, sensitive, used by an opaque handle, their material leaving it only
 * wrapped under the pool's domain key. The PKCS#11 adapter (lib/pkcs11/) implements this port for
 * CloudHSM's library in AWS and SoftHSM2 locally; the pool's keys API and its full backup use it.
 *
 * Every operation checks its input first (lib/hsm/hsm-key-rules.ts) and answers a bad one with
 * BadParameter; an algorithm the pool's HSM does not implement is HsmOperationNotSupported (a 400
 * that says so, never an emulation in JavaScript); an unreachable or failing HSM is ServiceUnavailable.
 */
import { BadParameter, NotFound } from '../core/errors.ts';
import type { Curve, EncryptionAlgorithm, SignatureAlgorithm } from '../keys/algorithms.ts';

export type HsmRsaKeySize = 2048 | 3072 | 4096;
export type HsmAesKeySize = 128 | 192 | 256;

/** RSA-HSM, EC-HSM and oct-HSM keys in Key Vault's terms: RSA by modulus bits, EC by curve, AES by key bits. */
export type HsmKeySpec = { kty: 'RSA'; size: HsmRsaKeySize } | { kty: 'EC'; curve: Curve } | { kty: 'oct'; size: HsmAesKeySize };

/** The public part as JWK members (unsigned big-endian bytes); an AES key has none. */
export type HsmPublicKey = { kty: 'RSA'; n: Buffer; e: Buffer } | { kty: 'EC'; crv: Curve; x: Buffer; y: Buffer } | { kty: 'oct' };

/**
 * A key in the pool's HSM. `handle` is what Coffer stores to find it again (a label the HSM's objects
 * carry); it names the key and says nothing about its material.
 */
export interface HsmKey {
  handle: string;
  spec: HsmKeySpec;
  publicKey: HsmPublicKey;
}

export type AesKeyWrapAlgorithm = 'A128KW' | 'A192KW' | 'A256KW';
export type AesGcmAlgorithm = 'A128GCM' | 'A192GCM' | 'A256GCM';
export type AesCbcAlgorithm = 'A128CBC' | 'A192CBC' | 'A256CBC' | 'A128CBCPAD' | 'A192CBCPAD' | 'A256CBCPAD';

/** How to encrypt: RSA by algorithm alone; AES-GCM with the caller's iv and optional additional data; AES-CBC with the caller's iv. */
export type HsmEncryption =
  | { algorithm: EncryptionAlgorithm }
  | { algorithm: AesGcmAlgorithm; iv: Uint8Array; additionalData?: Uint8Array }
  | { algorithm: AesCbcAlgorithm; iv: Uint8Array };

/** How to decrypt: as HsmEncryption, and AES-GCM with the tag encryption returned. */
export type HsmDecryption =
  | { algorithm: EncryptionAlgorithm }
  | { algorithm: AesGcmAlgorithm; iv: Uint8Array; additionalData?: Uint8Array; tag: Uint8Array }
  | { algorithm: AesCbcAlgorithm; iv: Uint8Array };

export interface HsmCiphertext {
  ciphertext: Buffer;
  /** AES-GCM's authentication tag (16 bytes); absent for every other algorithm. */
  tag?: Buffer;
}

/** Key Vault's wrapKey/unwrapKey: RSA keys with the RSA encryption algorithms, AES keys with AES key wrap (RFC 3394). */
export type HsmWrapAlgorithm = EncryptionAlgorithm | AesKeyWrapAlgorithm;

/**
 * A key as a full backup holds it: what it is, its public part in the clear, and its private or secret
 * material wrapped under the pool's domain key inside the HSM (AES key wrap with padding, RFC 5649).
 */
export interface WrappedHsmKey {
  handle: string;
  spec: HsmKeySpec;
  publicKey: HsmPublicKey;
  /** The domain key's handle the material is wrapped under. */
  domainKey: string;
  wrappedMaterial: Buffer;
}

export interface PoolHsm {
  /** A new key, generated in the HSM: sensitive, and extractable only wrapped under a trusted key (the domain key). */
  generateKey(spec: HsmKeySpec): Promise<HsmKey>;
  /**
   * A caller's AES key (Key Vault's import of an oct-HSM key, `k`: 16, 24 or 32 bytes) made an object
   * of the HSM with a generated key's attributes: sensitive, wrapped only under a trusted key. The
   * adapter zero-fills its own copy; the caller's is the caller's to wipe.
   */
  importAesKey(material: Uint8Array): Promise<HsmKey>;
  /** A caller's RSA or EC private key (PKCS#8, from Key Vault's import of a JWK) made a key of the HSM as importAesKey does; the adapter zero-fills its copies. */
  importPrivateKey(pkcs8: Uint8Array): Promise<HsmKey>;
  /** Throws HsmKeyNotFound for a handle the HSM does not hold. */
  describeKey(handle: string): Promise<HsmKey>;
  /** A signature over a digest the caller computed: RS*, PS* (salt length = digest length), ES* (r || s, Key Vault's form). */
  signDigest(handle: string, algorithm: SignatureAlgorithm, digest: Uint8Array): Promise<Buffer>;
  /** False for a signature that does not verify; BadParameter for a digest of the wrong length. */
  verifyDigest(handle: string, algorithm: SignatureAlgorithm, digest: Uint8Array, signature: Uint8Array): Promise<boolean>;
  encrypt(handle: string, encryption: HsmEncryption, plaintext: Uint8Array): Promise<HsmCiphertext>;
  /** HsmDecryptionFailed when the ciphertext or its tag is not this key's. */
  decrypt(handle: string, decryption: HsmDecryption, ciphertext: Uint8Array): Promise<Buffer>;
  wrapKey(handle: string, algorithm: HsmWrapAlgorithm, key: Uint8Array): Promise<Buffer>;
  unwrapKey(handle: string, algorithm: HsmWrapAlgorithm, wrappedKey: Uint8Array): Promise<Buffer>;
  /** Random bytes from the HSM's generator, 1 to 128 at a time (Key Vault's /rng limit). */
  randomBytes(count: number): Promise<Buffer>;
  /** True when the key was there and is gone now; false when there was no such key. */
  deleteKey(handle: string): Promise<boolean>;
  /**
   * The pool's domain key: an AES-256 key in the HSM, trusted (only the security officer can make one)
   * so that it alone may wrap the pool's keys, and itself never extractable.
   */
  createDomainKey(): Promise<string>;
  /**
   * The pool's domain key from 32 bytes made by the HSM's generator and split into the pool's
   * security domain first (lib/hsm/security-domain.ts): created in the HSM by the security officer,
   * as `createDomainKey`'s is, trusted, only wrapping, never extractable. The caller zero-fills the
   * material once this returns; the adapter does so with its own copies. `handle`: the domain key's
   * handle in the pool the security domain came from, so its backups find it here too (a new one
   * without it); Conflict if the HSM already holds a key of that handle.
   */
  importDomainKey(material: Uint8Array, handle?: string): Promise<string>;
  /** The key's material wrapped under the domain key, inside the HSM (C_WrapKey): it never leaves in the clear. */
  exportKey(handle: string, domainKey: string): Promise<WrappedHsmKey>;
  /** The exported key back in the HSM under its own handle, unwrapped inside it; Conflict if the handle is taken. */
  importKey(wrapped: WrappedHsmKey): Promise<HsmKey>;
}

/**
 * The pool's HSM does not implement this algorithm or key type (for instance RSA-OAEP-256 on SoftHSM
 * 2.6). A 400 that names what is missing, so a caller can choose another algorithm.
 */
export class HsmOperationNotSupported extends BadParameter {}

/** Decryption failed: the ciphertext, its padding or its authentication tag is not this key's. */
export class HsmDecryptionFailed extends BadParameter {
  constructor() {
    super('The ciphertext could not be decrypted with this key: the ciphertext, the iv, the additional data or the tag is wrong.');
  }
}

export class HsmKeyNotFound extends NotFound {
  constructor(readonly handle: string) {
    super('KeyNotFound', `The pool's HSM holds no key ${handle}.`);
  }
}
