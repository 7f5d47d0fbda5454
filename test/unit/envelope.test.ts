import { describe, expect, it } from 'vitest';
import { EnvelopeCipher } from '../../lib/crypto/envelope.ts';
import { CountingDataKeys } from '../support/data-keys.ts';

const scope = { keyId: 'vault-key', context: { 'coffer:vault': 'a' } };

describe('envelope encryption', () => {
  it('round-trips and never stores the plaintext', async () => {
    const cipher = new EnvelopeCipher(new CountingDataKeys());
    const blob = await cipher.encrypt(scope, 'place-1', Buffer.from('hunter2-very-secret'));
    expect(Buffer.from(blob).includes(Buffer.from('hunter2'))).toBe(false);
    expect((await cipher.decrypt(scope, 'place-1', blob)).toString()).toBe('hunter2-very-secret');
  });

  it('binds each blob to its place: other additional data does not decrypt', async () => {
    const cipher = new EnvelopeCipher(new CountingDataKeys());
    const blob = await cipher.encrypt(scope, 'vault/secrets/a/v1/secret', Buffer.from('x'));
    await expect(cipher.decrypt(scope, 'vault/secrets/b/v1/secret', blob)).rejects.toThrow();
  });

  it('makes no KMS call for warm reads, and one data key serves many writes', async () => {
    const provider = new CountingDataKeys();
    const cipher = new EnvelopeCipher(provider);
    const blobs = await Promise.all(Array.from({ length: 20 }, (_, i) => cipher.encrypt(scope, `p${i}`, Buffer.from(`v${i}`))));
    expect(provider.generated).toBe(1);
    for (let i = 0; i < blobs.length; i++) expect((await cipher.decrypt(scope, `p${i}`, blobs[i]!)).toString()).toBe(`v${i}`);
    expect(provider.decrypted).toBe(0);
  });

  it('a cold container decrypts each data key once, then serves from its cache', async () => {
    const provider = new CountingDataKeys();
    const writer = new EnvelopeCipher(provider);
    const blob = await writer.encrypt(scope, 'p', Buffer.from('value'));
    const reader = new EnvelopeCipher(provider);
    await Promise.all([reader.decrypt(scope, 'p', blob), reader.decrypt(scope, 'p', blob)]);
    await reader.decrypt(scope, 'p', blob);
    expect(provider.decrypted).toBe(1);
  });

  it('rotates the data key after its use budget and its lifetime', async () => {
    const provider = new CountingDataKeys();
    let now = 0;
    const cipher = new EnvelopeCipher(provider, { maxUsesPerDataKey: 3, dataKeyLifetimeMs: 1000, maxCachedDataKeys: 10 }, () => now);
    for (let i = 0; i < 7; i++) await cipher.encrypt(scope, 'p', Buffer.from('v'));
    expect(provider.generated).toBe(3);
    now += 2000;
    await cipher.encrypt(scope, 'p', Buffer.from('v'));
    expect(provider.generated).toBe(4);
  });

  it("does not use a data key cached for one vault to open a blob presented as another vault's", async () => {
    const provider = new CountingDataKeys();
    const cipher = new EnvelopeCipher(provider);
    const blob = await cipher.encrypt(scope, 'p', Buffer.from('v'));
    await expect(cipher.decrypt({ keyId: 'vault-key', context: { 'coffer:vault': 'b' } }, 'p', blob)).rejects.toThrow();
  });
});
