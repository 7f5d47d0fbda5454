import { constants, createPublicKey, publicEncrypt, randomBytes, createCipheriv } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GenerateRandomCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from './api/kms.ts';
import { Forbidden, ServiceUnavailable } from '../core/errors.ts';
import {
  type HsmEncryptionAlgorithm,
  HsmKeyMissing,
  type HsmKeySpec,
  type HsmKeys,
  type HsmKeyUsage,
  type HsmSigningAlgorithm,
} from '../keys/hsm.ts';
import { callKms, isKmsError, KmsDataKeys } from './kms-data-keys.ts';

/**
 * The KMS adapter for HSM keys (asymmetric KMS keys, one per key version), on top of the data keys
 * every function uses. Only the keys functions build it.
 */
export class KmsKeyProtection extends KmsDataKeys implements HsmKeys {
  /** An HSM-backed key version: asymmetric key material generated inside KMS. */
  async createHsmKey(spec: HsmKeySpec, usage: HsmKeyUsage, tags: Record<string, string>): Promise<string> {
    const result = await callKms(() =>
      this.client.send(
        new CreateKeyCommand({
          KeySpec: spec,
          KeyUsage: usage,
          Description: `Coffer HSM key ${tags['coffer:key'] ?? ''}`.trim(),
          Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        }),
      ),
    );
    const arn = result.KeyMetadata?.Arn;
    if (!arn) throw new ServiceUnavailable('The key management service did not create the key.');
    return arn;
  }

  /**
   * Bring-your-own-key into the HSM: the private key (PKCS#8 DER) is wrapped for KMS with
   * RSA_AES_KEY_WRAP_SHA_256 (an ephemeral AES key under the KMS wrapping key, the material under
   * AES key wrap with padding) and imported; the caller discards its copy.
   */
  async importHsmKey(spec: HsmKeySpec, usage: HsmKeyUsage, pkcs8: Uint8Array, tags: Record<string, string>): Promise<string> {
    const created = await callKms(() =>
      this.client.send(
        new CreateKeyCommand({
          KeySpec: spec,
          KeyUsage: usage,
          Origin: 'EXTERNAL',
          Description: `Coffer imported HSM key ${tags['coffer:key'] ?? ''}`.trim(),
          Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        }),
      ),
    );
    const arn = created.KeyMetadata?.Arn;
    if (!arn) throw new ServiceUnavailable('The key management service did not create the key.');
    try {
      await this.importMaterial(arn, pkcs8);
    } catch (error) {
      // A key without material is useless and would stay pending import for ever: let KMS remove it.
      await this.scheduleKeyDeletion(arn).catch(() => undefined);
      throw error;
    }
    return arn;
  }

  private async importMaterial(arn: string, pkcs8: Uint8Array): Promise<void> {
    const parameters = await callKms(() =>
      this.client.send(new GetParametersForImportCommand({ KeyId: arn, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_4096' })),
    );
    const wrappingKey = createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' });
    const aesKey = randomBytes(32);
    const wrappedAesKey = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey);
    const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
    const wrappedMaterial = Buffer.concat([kwp.update(pkcs8), kwp.final()]);
    aesKey.fill(0);
    await callKms(() =>
      this.client.send(
        new ImportKeyMaterialCommand({
          KeyId: arn,
          ImportToken: parameters.ImportToken,
          EncryptedKeyMaterial: Buffer.concat([wrappedAesKey, wrappedMaterial]),
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      ),
    );
  }

  async publicKey(arn: string): Promise<Uint8Array> {
    const result = await callKms(() => this.client.send(new GetPublicKeyCommand({ KeyId: arn })));
    if (!result.PublicKey) throw new ServiceUnavailable('The key management service returned no public key.');
    return result.PublicKey;
  }

  /** Signs a digest the caller computed; KMS answers ECDSA signatures in DER. */
  async signDigest(arn: string, algorithm: HsmSigningAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
    const result = await this.usingHsmKey(() =>
      this.client.send(new SignCommand({ KeyId: arn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm })),
    );
    if (!result.Signature) throw new ServiceUnavailable('The key management service returned no signature.');
    return result.Signature;
  }

  /** Private-key decryption inside KMS; undefined when the ciphertext does not decrypt. */
  async decryptAsymmetric(arn: string, algorithm: HsmEncryptionAlgorithm, ciphertext: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const result = await this.usingHsmKey(() =>
        this.client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm })),
      );
      return result.Plaintext;
    } catch (error) {
      if (isKmsError(error, 'InvalidCiphertextException')) return undefined;
      throw error;
    }
  }

  async enableKey(arn: string): Promise<void> {
    try {
      await callKms(() => this.client.send(new EnableKeyCommand({ KeyId: arn })));
    } catch (error) {
      // Gone, pending deletion or pending import: there is no usable material to enable.
      if (isKmsError(error, 'NotFoundException', 'KMSInvalidStateException')) throw new HsmKeyMissing(arn);
      throw error;
    }
  }

  async disableKey(arn: string): Promise<void> {
    try {
      await callKms(() => this.client.send(new DisableKeyCommand({ KeyId: arn })));
    } catch (error) {
      // Gone, pending deletion or pending import: the key is unusable already, which is all disabling is for.
      if (isKmsError(error, 'NotFoundException', 'KMSInvalidStateException')) return;
      throw error;
    }
  }

  /** Purge: KMS deletes key material only after a waiting period (the shortest is 7 days). */
  async scheduleKeyDeletion(arn: string): Promise<boolean> {
    try {
      await callKms(() => this.client.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 })));
      return true;
    } catch (error) {
      // Already pending deletion or gone: nothing left to do for this version.
      if (isKmsError(error, 'KMSInvalidStateException', 'NotFoundException')) return false;
      throw error;
    }
  }

  /** Restore of a purged HSM key within the deletion window brings its material back (disabled). */
  async cancelKeyDeletion(arn: string): Promise<boolean> {
    try {
      await callKms(() => this.client.send(new CancelKeyDeletionCommand({ KeyId: arn })));
      return true;
    } catch (error) {
      if (isKmsError(error, 'KMSInvalidStateException')) return false;
      if (isKmsError(error, 'NotFoundException')) throw new HsmKeyMissing(arn);
      throw error;
    }
  }

  async randomBytes(count: number): Promise<Uint8Array> {
    const result = await callKms(() => this.client.send(new GenerateRandomCommand({ NumberOfBytes: count })));
    if (!result.Plaintext) throw new ServiceUnavailable('The key management service returned no random bytes.');
    return result.Plaintext;
  }

  /**
   * Sign and decrypt with a key version's KMS key. Coffer disables a version's KMS key only while the
   * key is deleted, so a disabled or deleted KMS key here means someone changed it outside Coffer:
   * the key cannot be used, which is what the caller hears, not an internal error.
   */
  private async usingHsmKey<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await callKms(send);
    } catch (error) {
      if (isKmsError(error, 'DisabledException', 'KMSInvalidStateException', 'NotFoundException')) {
        throw new Forbidden('The HSM key material of this key version is disabled or deleted in the key management service.', 'KeyDisabled');
      }
      throw error;
    }
  }
}
