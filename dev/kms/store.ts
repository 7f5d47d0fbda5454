/**
 * Persistence of the local KMS: every key and alias in one JSON document, rewritten atomically on
 * each change. The local KMS stands in for an HSM, so key material is never in that document in the
 * clear: it is sealed (AES-256-GCM) under a root key kept in its own 0600 file. Copying keys.json
 * alone, or pasting it into a bug report, discloses no key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeySpec, KeyUsage } from './specs.ts';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';
export type Origin = 'AWS_KMS' | 'EXTERNAL';
export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

export interface Tag {
  TagKey: string;
  TagValue: string;
}

export interface KeyRecord {
  keyId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  origin: Origin;
  state: KeyState;
  deletionDate?: number;
  pendingWindowInDays?: number;
  tags: Tag[];
  /** Sealed key material (base64): 32 raw bytes for symmetric keys, a PKCS#8 DER private key otherwise. */
  material?: string;
  expirationModel?: ExpirationModel;
  /** Epoch milliseconds at which imported material expires. */
  validTo?: number;
}

export interface AliasRecord {
  name: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

interface StoreDocument {
  version: 1;
  /** A sealed known value: opening a store with the wrong root key fails at startup, not at first use. */
  rootKeyCheck: string;
  keys: KeyRecord[];
  aliases: AliasRecord[];
}

const STORE_FILE = 'keys.json';
const ROOT_KEY_FILE = 'root.key';
const ROOT_KEY_CHECK = 'coffer-local-kms root key check';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export class KeyStore {
  readonly keys = new Map<string, KeyRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private readonly rootKey: Buffer,
  ) {}

  static async open(dataDir: string): Promise<KeyStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const rootKey = await loadOrCreateRootKey(join(dataDir, ROOT_KEY_FILE));
    const store = new KeyStore(dataDir, rootKey);
    const text = await readIfExists(join(dataDir, STORE_FILE));
    if (text !== undefined) {
      const document = JSON.parse(text) as StoreDocument;
      if (document.version !== 1) throw new Error(`local KMS: unsupported store version ${String(document.version)}`);
      try {
        if (store.open(document.rootKeyCheck, 'root-key-check').toString('utf8') !== ROOT_KEY_CHECK) throw new Error('mismatch');
      } catch {
        throw new Error(`local KMS: ${join(dataDir, ROOT_KEY_FILE)} is not the root key that sealed ${join(dataDir, STORE_FILE)}`);
      }
      for (const key of document.keys) store.keys.set(key.keyId, key);
      for (const alias of document.aliases) store.aliases.set(alias.name, alias);
    }
    return store;
  }

  /**
   * AES-256-GCM under the root key. `purpose` is bound as additional data so a sealed value only
   * opens in the role it was sealed for: material of one key cannot be pasted onto another, and an
   * import token cannot be passed off as key material.
   */
  seal(plaintext: Buffer, purpose: string): string {
    return this.sealBytes(plaintext, purpose).toString('base64');
  }

  open(sealed: string, purpose: string): Buffer {
    return this.openBytes(Buffer.from(sealed, 'base64'), purpose);
  }

  sealBytes(plaintext: Buffer, purpose: string): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.rootKey, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws on any tampering, truncation or wrong purpose. */
  openBytes(sealed: Buffer, purpose: string): Buffer {
    if (sealed.length < IV_LENGTH + TAG_LENGTH) throw new Error('sealed value too short');
    const decipher = createDecipheriv('aes-256-gcm', this.rootKey, sealed.subarray(0, IV_LENGTH));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(sealed.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH));
    return Buffer.concat([decipher.update(sealed.subarray(IV_LENGTH + TAG_LENGTH)), decipher.final()]);
  }

  sealMaterial(keyId: string, material: Buffer): string {
    return this.seal(material, `key-material:${keyId}`);
  }

  openMaterial(key: KeyRecord): Buffer {
    if (!key.material) throw new Error(`key ${key.keyId} has no material`);
    return this.open(key.material, `key-material:${key.keyId}`);
  }

  /**
   * Writes the current state. Writes are chained so an older snapshot can never land after a newer
   * one; each serializes the state as it is when its turn comes, so the last write always wins.
   */
  save(): Promise<void> {
    const run = this.writing.then(() => this.writeNow());
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every write requested so far has finished. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async writeNow(): Promise<void> {
    const document: StoreDocument = {
      version: 1,
      rootKeyCheck: this.seal(Buffer.from(ROOT_KEY_CHECK, 'utf8'), 'root-key-check'),
      keys: [...this.keys.values()],
      aliases: [...this.aliases.values()],
    };
    await writeFileAtomic(join(this.dataDir, STORE_FILE), `${JSON.stringify(document, null, 2)}\n`);
  }
}

async function loadOrCreateRootKey(path: string): Promise<Buffer> {
  let text = await readIfExists(path);
  if (text === undefined) {
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeNewFile(temporary, `${randomBytes(32).toString('base64')}\n`);
    try {
      // link() never replaces an existing file: if two processes race on a fresh directory,
      // both end up with the one root key that won instead of each sealing under its own.
      await link(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    text = await readFile(path, 'utf8');
  } else {
    // A root key readable by others defeats sealing; tighten it rather than refuse to start.
    await chmod(path, 0o600);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`local KMS: ${path} does not hold a 256-bit base64 key`);
  return key;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Readers see the old or the new store, never a torn one, even if the process dies mid-write. */
async function writeFileAtomic(path: string, contents: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeNewFile(temporary, contents);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

async function writeNewFile(path: string, contents: string): Promise<void> {
  // Created with its final mode, so the file is never briefly readable by others.
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
