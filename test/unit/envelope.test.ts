import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DataKeyProvider, EnvelopeCipher } from '../../lib/crypto/envelope.ts';

/** A stand-in for KMS that really wraps data keys, and counts its calls. */
class CountingProvider implements DataKeyProvider {
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

const scope = { keyId: 'vault-key', context: { 'coffer:vault': 'a' } };

describe('envelope encryption', () => {
  it('round-trips and never stores the plaintext', async () => {
    const cipher = new EnvelopeCipher(new CountingProvider());
    const blob = await cipher.encrypt(scope, 'place-1', Buffer.from('hunter2-very-secret'));
    expect(Buffer.from(blob).includes(Buffer.from('hunter2'))).toBe(false);
    expect((await cipher.decrypt(scope, 'place-1', blob)).toString()).toBe('hunter2-very-secret');
  });

  it('binds each blob to its place: other additional data does not decrypt', async () => {
    const cipher = new EnvelopeCipher(new CountingProvider());
    const blob = await cipher.encrypt(scope, 'vault/secrets/a/v1/secret', Buffer.from('x'));
    await expect(cipher.decrypt(scope, 'vault/secrets/b/v1/secret', blob)).rejects.toThrow();
  });

  it('makes no KMS call for warm reads, and one data key serves many writes', async () => {
    const provider = new CountingProvider();
    const cipher = new EnvelopeCipher(provider);
    const blobs = await Promise.all(Array.from({ length: 20 }, (_, i) => cipher.encrypt(scope, `p${i}`, Buffer.from(`v${i}`))));
    expect(provider.generated).toBe(1);
    for (let i = 0; i < blobs.length; i++) expect((await cipher.decrypt(scope, `p${i}`, blobs[i]!)).toString()).toBe(`v${i}`);
    expect(provider.decrypted).toBe(0);
  });

  it('a cold container decrypts each data key once, then serves from its cache', async () => {
    const provider = new CountingProvider();
    const writer = new EnvelopeCipher(provider);
    const blob = await writer.encrypt(scope, 'p', Buffer.from('value'));
    const reader = new EnvelopeCipher(provider);
    await Promise.all([reader.decrypt(scope, 'p', blob), reader.decrypt(scope, 'p', blob)]);
    await reader.decrypt(scope, 'p', blob);
    expect(provider.decrypted).toBe(1);
  });

  it('rotates the data key after its use budget and its lifetime', async () => {
    const provider = new CountingProvider();
    let now = 0;
    const cipher = new EnvelopeCipher(provider, { maxUsesPerDataKey: 3, dataKeyLifetimeMs: 1000, maxCachedDataKeys: 10 }, () => now);
    for (let i = 0; i < 7; i++) await cipher.encrypt(scope, 'p', Buffer.from('v'));
    expect(provider.generated).toBe(3);
    now += 2000;
    await cipher.encrypt(scope, 'p', Buffer.from('v'));
    expect(provider.generated).toBe(4);
  });

  it("does not use a data key cached for one vault to open a blob presented as another vault's", async () => {
    const provider = new CountingProvider();
    const cipher = new EnvelopeCipher(provider);
    const blob = await cipher.encrypt(scope, 'p', Buffer.from('v'));
    await expect(cipher.decrypt({ keyId: 'vault-key', context: { 'coffer:vault': 'b' } }, 'p', blob)).rejects.toThrow();
  });
});
