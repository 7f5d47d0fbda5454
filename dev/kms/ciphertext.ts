/**
 * Symmetric ciphertext blobs. Like real KMS blobs they are opaque to callers but name the key that
 * made them, which is why Decrypt needs no KeyId, and they authenticate the encryption context,
 * which is why decrypting with a different context fails instead of returning plaintext.
 *
 *   version (1) | key id (16, the UUID's bytes) | IV (12) | GCM tag (16) | ciphertext
 *
 * The version byte and key id are part of the GCM additional data, so a blob whose header is
 * rewritten to name another key fails authentication rather than decrypting under that key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { kmsError } from './errors.ts';

const VERSION = 1;
const KEY_ID_LENGTH = 16;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH;
const MIN_LENGTH = HEADER_LENGTH + IV_LENGTH + TAG_LENGTH + 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * One serialization per context regardless of member order (KMS treats the context as a set of
 * pairs). Sorted JSON pairs cannot collide the way naive "k=v;" concatenation can.
 */
export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

/**
 * GCM with a random 96-bit IV per blob. NIST caps that at 2^32 encryptions per key, far beyond
 * what a development endpoint will ever do.
 */
export function sealBlob(keyId: string, material: Buffer, plaintext: Buffer, context: Record<string, string> | undefined): Buffer {
  const header = Buffer.concat([Buffer.from([VERSION]), uuidBytes(keyId)]);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
}

/** The key a blob claims to belong to, or undefined if it is not a blob this endpoint made. */
export function blobKeyId(blob: Buffer): string | undefined {
  if (blob.length < MIN_LENGTH || blob[0] !== VERSION) return undefined;
  const hex = blob.subarray(1, HEADER_LENGTH).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function openBlob(material: Buffer, blob: Buffer, context: Record<string, string> | undefined): Buffer {
  try {
    const header = blob.subarray(0, HEADER_LENGTH);
    const iv = blob.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
    const tag = blob.subarray(HEADER_LENGTH + IV_LENGTH, HEADER_LENGTH + IV_LENGTH + TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', material, iv);
    decipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(blob.subarray(HEADER_LENGTH + IV_LENGTH + TAG_LENGTH)), decipher.final()]);
  } catch {
    // KMS does not say whether the context or the bytes were wrong, and neither do we.
    throw kmsError('InvalidCiphertextException', 'The ciphertext is invalid or was not encrypted under this encryption context.');
  }
}

function uuidBytes(keyId: string): Buffer {
  if (!UUID.test(keyId)) throw new Error(`not a key id: ${keyId}`);
  return Buffer.from(keyId.replaceAll('-', ''), 'hex');
}
