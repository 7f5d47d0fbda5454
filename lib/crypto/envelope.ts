import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { EXPIRING_CACHE } from '../core/caches.ts';

/**
 * Envelope encryption for everything Coffer stores: AES-256-GCM under a data key that a KMS key
 * protects. The KMS encryption context binds a data key to its vault; the GCM additional data binds
 * each blob to exactly one place (vault, collection, name, version, field), so a blob copied to another
 * item does not decrypt.
 *
 * Cost and latency: a data key is reused for a bounded number of encryptions and a bounded time, and
 * decrypted data keys are cached for a bounded time, so warm reads and most writes make no KMS call.
 */
export interface DataKeyProvider {
  generateDataKey(keyId: string, context: Record<string, string>): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }>;
  decryptDataKey(ciphertext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>;
}

export interface EnvelopeLimits {
  /** How many blobs one data key may encrypt before a fresh one is generated. */
  maxUsesPerDataKey: number;
  /** How long a data key is used for encryption, and how long a decrypted data key stays cached. */
  dataKeyLifetimeMs: number;
  /** How many decrypted data keys one container keeps. */
  maxCachedDataKeys: number;
}

const defaultEnvelopeLimits: EnvelopeLimits = {
  maxUsesPerDataKey: 10_000,
  dataKeyLifetimeMs: 5 * 60_000,
  maxCachedDataKeys: 1_000,
};

/** Who a data key belongs to: the KMS key and the encryption context KMS binds it to. */
export interface KeyScope {
  keyId: string;
  context: Record<string, string>;
}

const FORMAT_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

interface ActiveDataKey {
  plaintext: KeyObject;
  ciphertext: Uint8Array;
  uses: number;
  expiresAt: number;
}

export class EnvelopeCipher {
  private readonly active = new Map<string, Promise<ActiveDataKey>>();
  private readonly decrypted: LRUCache<string, KeyObject>;
  private readonly inflightDecrypts = new Map<string, Promise<KeyObject>>();

  constructor(
    private readonly provider: DataKeyProvider,
    private readonly limits: EnvelopeLimits = defaultEnvelopeLimits,
    private readonly now: () => number = Date.now,
  ) {
    // Data keys are held as KeyObjects: a cipher made from one skips parsing a raw key on every
    // blob (a quarter of the time of a small blob's decryption). A KeyObject cannot be wiped from
    // JavaScript, so the raw bytes KMS answered are wiped as soon as it is made, and an evicted key
    // goes with its last reference (OpenSSL clears a key's bytes when it frees it), as the opened
    // signing keys do (docs/adr/0010-prehashed-ecdsa-with-openssl.md).
    this.decrypted = new LRUCache<string, KeyObject>({
      max: limits.maxCachedDataKeys,
      ttl: limits.dataKeyLifetimeMs,
      ...EXPIRING_CACHE,
    });
  }

  async encrypt(scope: KeyScope, aad: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const dataKey = await this.dataKeyFor(scope);
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    const header = Buffer.alloc(3);
    header.writeUInt8(FORMAT_VERSION, 0);
    header.writeUInt16BE(dataKey.ciphertext.length, 1);
    return Buffer.concat([header, dataKey.ciphertext, iv, tag, body]);
  }

  async decrypt(scope: KeyScope, aad: string, blob: Uint8Array): Promise<Buffer> {
    const buffer = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (buffer.length < 3 || buffer.readUInt8(0) !== FORMAT_VERSION) throw new Error('unknown envelope format');
    const keyLength = buffer.readUInt16BE(1);
    const ivStart = 3 + keyLength;
    const tagStart = ivStart + IV_LENGTH;
    const bodyStart = tagStart + TAG_LENGTH;
    const encryptedKey = buffer.subarray(3, ivStart);
    const iv = buffer.subarray(ivStart, tagStart);
    const tag = buffer.subarray(tagStart, bodyStart);
    const body = buffer.subarray(bodyStart);
    if (tag.length !== TAG_LENGTH) throw new Error('truncated envelope');
    const id = cacheId(scope, encryptedKey);
    // A warm read finds its data key cached and goes on without yielding to the event loop.
    const key = this.decrypted.get(id) ?? (await this.plaintextKey(id, scope, encryptedKey));
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  }

  private async dataKeyFor(scope: KeyScope): Promise<ActiveDataKey> {
    const id = scopeId(scope);
    const current = this.active.get(id);
    if (current) {
      const key = await current.catch(() => undefined);
      if (key && key.uses < this.limits.maxUsesPerDataKey && key.expiresAt > this.now()) {
        key.uses++;
        return key;
      }
      if (this.active.get(id) === current) this.active.delete(id);
      else return this.dataKeyFor(scope);
    }
    // Concurrent encryptions on a cold container share one GenerateDataKey call.
    const created = this.provider.generateDataKey(scope.keyId, scope.context).then((generated) => {
      const plaintext = keyObjectOf(generated.plaintext);
      // The freshly generated key is also what decrypts the blobs it writes.
      this.decrypted.set(cacheId(scope, generated.ciphertext), plaintext);
      return { plaintext, ciphertext: generated.ciphertext, uses: 0, expiresAt: this.now() + this.limits.dataKeyLifetimeMs };
    });
    this.active.set(id, created);
    try {
      const key = await created;
      key.uses++;
      return key;
    } catch (error) {
      if (this.active.get(id) === created) this.active.delete(id);
      throw error;
    }
  }

  /** The data key from KMS, one call for concurrent decryptions of blobs under it. */
  private async plaintextKey(id: string, scope: KeyScope, encryptedKey: Uint8Array): Promise<KeyObject> {
    let pending = this.inflightDecrypts.get(id);
    if (!pending) {
      pending = this.provider
        .decryptDataKey(encryptedKey, scope.context)
        .then((plaintext) => {
          const key = keyObjectOf(plaintext);
          this.decrypted.set(id, key);
          return key;
        })
        .finally(() => this.inflightDecrypts.delete(id));
      this.inflightDecrypts.set(id, pending);
    }
    return pending;
  }
}

/** The data key as a KeyObject; the bytes it was made from are wiped. */
function keyObjectOf(plaintext: Uint8Array): KeyObject {
  const key = createSecretKey(plaintext);
  plaintext.fill(0);
  return key;
}

function scopeId(scope: KeyScope): string {
  const context = Object.keys(scope.context)
    .sort()
    .map((k) => `${k}=${scope.context[k]}`)
    .join('&');
  return `${scope.keyId}|${context}`;
}

// The cache is keyed by the scope too, so a data key cached for one vault is never used to decrypt
// a blob presented as another vault's.
function cacheId(scope: KeyScope, encryptedKey: Uint8Array): string {
  return `${scopeId(scope)}|${Buffer.from(encryptedKey).toString('base64')}`;
}
