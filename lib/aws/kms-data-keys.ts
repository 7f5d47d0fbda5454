import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, type KMSClient, KMSServiceException } from './api/kms.ts';
import { ServiceUnavailable, VaultError } from '../core/errors.ts';
import type { DataKeyProvider } from '../crypto/envelope.ts';

/**
 * The KMS adapter for what every function needs: data keys for envelope encryption, and the vault's
 * own key. HSM keys are lib/aws/kms.ts, which only the keys functions carry. Locally the same client
 * reaches the KMS-compatible endpoint through AWS_ENDPOINT_URL_KMS; nothing here knows the difference.
 */
export class KmsDataKeys implements DataKeyProvider {
  constructor(protected readonly client: KMSClient) {}

  async generateDataKey(keyId: string, context: Record<string, string>) {
    const result = await callKms(() =>
      this.client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context })),
    );
    if (!result.Plaintext || !result.CiphertextBlob) throw new ServiceUnavailable('The key management service returned no data key.');
    return { plaintext: result.Plaintext, ciphertext: result.CiphertextBlob };
  }

  async decryptDataKey(ciphertext: Uint8Array, context: Record<string, string>) {
    const result = await callKms(() => this.client.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: context })));
    if (!result.Plaintext) throw new ServiceUnavailable('The key management service returned no data key.');
    return result.Plaintext;
  }

  /** A vault's own symmetric key, created with the vault. */
  async createVaultKey(vaultName: string, tags: Record<string, string>): Promise<string> {
    const result = await callKms(() =>
      this.client.send(
        new CreateKeyCommand({
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          Description: `Coffer vault ${vaultName}: envelope encryption of vault objects`,
          Tags: Object.entries({ 'coffer:vault': vaultName, ...tags }).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        }),
      ),
    );
    const arn = result.KeyMetadata?.Arn;
    if (!arn) throw new ServiceUnavailable('The key management service did not create the vault key.');
    return arn;
  }
}

/**
 * KMS failures are the service's problem, not the caller's: they surface as 503 so clients retry
 * (or 429 while KMS throttles: the transport answers both once its retries are spent), while a
 * tampered blob (InvalidCiphertextException) is a real integrity failure and is rethrown, as are the
 * other errors KMS answers for the request itself (a missing or disabled key), for the adapter to read.
 */
export async function callKms<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof VaultError) throw error;
    if (error instanceof KMSServiceException && error.name === 'InvalidCiphertextException') throw error;
    if (error instanceof KMSServiceException && error.$fault === 'server') {
      throw new ServiceUnavailable('The key management service is temporarily unavailable.', { cause: error });
    }
    if (error instanceof KMSServiceException) throw error;
    throw new ServiceUnavailable('The key management service is unreachable.', { cause: error });
  }
}

export function isKmsError(error: unknown, ...names: string[]): boolean {
  return error instanceof KMSServiceException && names.includes(error.name);
}
