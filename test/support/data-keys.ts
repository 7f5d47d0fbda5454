import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKeyProvider } from '../../lib/crypto/envelope.ts';

/**
 * A stand-in for KMS that really wraps data keys (AES-256-GCM under a master key of its own, with the
 * encryption context as additional data, so a data key opens only under the context it was made for),
 * and counts its calls.
 */
export class CountingDataKeys implements DataKeyProvider {
  generated = 0;
  decrypted = 0;
  private readonly master = randomBytes(32);

  async generateDataKey(_keyId: string, context: Record<string, string>) {
    this.generated++;
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.master, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(context)));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { plaintext, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  async decryptDataKey(ciphertext: Uint8Array, context: Record<string, string>) {
    this.decrypted++;
    const blob = Buffer.from(ciphertext);
    const decipher = createDecipheriv('aes-256-gcm', this.master, blob.subarray(0, 12));
    decipher.setAAD(Buffer.from(JSON.stringify(context)));
    decipher.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
  }
}
