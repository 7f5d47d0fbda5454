import type { VaultClock } from '../core/clock.ts';
import { LRUCache } from 'lru-cache';
import { BadParameter, Forbidden } from '../core/errors.ts';
import { derToRaw } from '../crypto/ecdsa-signature.ts';
import type { VersionedObjects } from '../objects/collection.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { ObjectAttributes, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { assertDigest, assertEncryptionAlgorithm, assertSignatureAlgorithm } from './algorithms.ts';
import { hsmEncryptionAlgorithm, type HsmKeys, hsmSigningAlgorithm } from './hsm.ts';
import { type KeyMeta, type KeyPlain, kindOf, plainOf, publicJwkOf } from './layout.ts';
import type { KeyOperationRecord, VerifyRecord } from './records.ts';
import { assertRandomByteCount, decodeBase64Url } from './rules.ts';
import type { KeyOperationInput, VerifyInput } from './schemas.ts';
import { decrypt, encrypt, maxPlaintextBytes, type OpenedPrivateKey, openPrivateKey, signDigest, verifyDigest, wipePrivateKey } from './software.ts';
import { EXPIRING_CACHE } from '../core/caches.ts';
import type { CryptoOperation, HandleKeys } from './handle-keys.ts';

export type { CryptoOperation };

/** Operations that still work outside a key's nbf/exp window (reference §3). */
const OUTSIDE_WINDOW_OPS: readonly CryptoOperation[] = ['decrypt', 'unwrapKey', 'verify'];

/**
 * The cryptographic operations on a key version. Public-key operations (verify, encrypt, wrap) run
 * here on the stored public key; private ones run here for software keys and in KMS for HSM keys.
 */
export class KeyOperations {
  /**
   * Opened private keys of software keys, per container: a warm sign or decrypt neither calls KMS,
   * nor decrypts the sealed blob, nor parses the key again (parsing costs more than a signature).
   * Bounded in count and lifetime; on eviction what can be wiped is (wipePrivateKey).
   */
  private readonly openedKeys = new LRUCache<string, OpenedPrivateKey>({ max: 500, ttl: 5 * 60_000, dispose: wipePrivateKey, ...EXPIRING_CACHE });

  constructor(
    private readonly objects: VersionedObjects,
    private readonly content: SealedContent<KeyMeta>,
    private readonly hsm: HsmKeys,
    private readonly clock: VaultClock,
    /** A managed HSM pool's HSM: its versions' every operation runs there (handle-keys.ts). */
    private readonly handleKeys?: HandleKeys,
  ) {}

  /** encrypt, decrypt, wrapKey, unwrapKey and sign, on a named version or the latest; or verify. */
  async operate(
    at: VaultAddress,
    name: string,
    versionParam: string | undefined,
    operation: CryptoOperation,
    input: KeyOperationInput | VerifyInput,
  ): Promise<KeyOperationRecord | VerifyRecord> {
    const version = await this.objects.version(at, name, versionParam);
    const plain = plainOf(version);
    this.assertUsable(at, version.attributes, plain, operation);
    const answer = (result: Uint8Array): KeyOperationRecord => ({ name: version.name, version: version.version, result });
    if (plain.hsmHandle) {
      if (!this.handleKeys) throw new BadParameter("This key's material is in a managed HSM pool's HSM, which this service does not reach.");
      const done = await this.handleKeys.operate(plain, operation, input);
      return { name: version.name, version: version.version, ...done };
    }
    const kind = kindOf(plain);
    const publicJwk = publicJwkOf(plain);
    const value = decodeBase64Url(input.value, 'value');

    if (operation === 'sign' || operation === 'verify') {
      const alg = assertSignatureAlgorithm(input.alg, kind, plain.crv);
      if (operation === 'verify') {
        const digest = decodeBase64Url('digest' in input ? input.digest : '', 'digest');
        assertDigest(alg, digest);
        return { name: version.name, version: version.version, valid: verifyDigest(publicJwk, alg, digest, value) };
      }
      assertDigest(alg, value);
      if (plain.hsmArn) {
        const signature = await this.hsm.signDigest(plain.hsmArn, hsmSigningAlgorithm(alg), value);
        return answer(kind === 'EC' ? derToRaw(signature, plain.crv!) : signature);
      }
      const privateKey = await this.privateKey(at, version);
      return answer(signDigest(privateKey, kind, plain.crv, alg, value));
    }

    const alg = assertEncryptionAlgorithm(input.alg, kind);
    if (plain.hsmArn) hsmEncryptionAlgorithm(alg); // RSA1_5 is refused for HSM keys in both directions
    if (operation === 'encrypt' || operation === 'wrapKey') {
      const limit = maxPlaintextBytes(plain.keySize ?? 2048, alg);
      if (value.length > limit) throw new BadParameter(`The plaintext is too long for this key and algorithm: at most ${limit} bytes.`);
      return answer(encrypt(publicJwk, alg, value));
    }
    if (plain.hsmArn) {
      const plaintext = await this.hsm.decryptAsymmetric(plain.hsmArn, hsmEncryptionAlgorithm(alg), value);
      if (!plaintext) throw new BadParameter('The ciphertext could not be decrypted with this key and algorithm.');
      return answer(plaintext);
    }
    return answer(decrypt(await this.privateKey(at, version), alg, value));
  }

  async randomBytes(count: number): Promise<Uint8Array> {
    assertRandomByteCount(count);
    return (this.handleKeys ?? this.hsm).randomBytes(count);
  }

  private assertUsable(at: VaultAddress, attributes: ObjectAttributes, plain: KeyPlain, operation: CryptoOperation): void {
    if (!attributes.enabled) throw new Forbidden(`Operation ${operation} is not allowed on a disabled key.`, 'KeyDisabled');
    if (!plain.keyOps.includes(operation)) throw new Forbidden(`Operation ${operation} is not permitted on this key.`, 'KeyOperationForbidden');
    if (OUTSIDE_WINDOW_OPS.includes(operation)) return;
    const now = this.clock(at.vault.name);
    if (attributes.nbf !== undefined && now < attributes.nbf) {
      throw new Forbidden(`Operation ${operation} is not allowed on a key that is not yet valid.`, 'KeyNotYetValid');
    }
    if (attributes.exp !== undefined && now > attributes.exp) {
      throw new Forbidden(`Operation ${operation} is not allowed on an expired key.`, 'KeyExpired');
    }
  }

  private async privateKey(at: VaultAddress, version: StoredVersion): Promise<OpenedPrivateKey> {
    if (!version.secret) throw new BadParameter('This key has no private material in this vault.');
    // Versions are immutable, so vault + name + version identifies the material for good.
    const id = `${at.vault.name}/${version.name.toLowerCase()}/${version.version}`;
    const cached = this.openedKeys.get(id);
    if (cached) return cached;
    const pkcs8 = await this.content.openSecret(at.vault, version, version.secret);
    try {
      const opened = openPrivateKey(pkcs8);
      this.openedKeys.set(id, opened);
      return opened;
    } finally {
      pkcs8.fill(0);
    }
  }
}
