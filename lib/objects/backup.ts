import type { EnvelopeCipher } from '../crypto/envelope.ts';
import { BadParameter } from '../core/errors.ts';
import type { Collection } from './store.ts';

/**
 * Backup blobs. Like Azure's, they are opaque and restore only within the tenant that made them (into
 * any of its vaults): the content is sealed under the deployment's backup KMS key with the tenant in
 * the encryption context, so a blob from another tenant, or an altered one, fails to open.
 */
const MAGIC = Buffer.from('CofferBackup1\n', 'utf8');
const INVALID = 'Backup blob contains invalid or corrupt version.';

/** What every object kind's backup holds; each kind adds its own version fields. */
export interface ObjectBackup<Version> {
  collection: Collection;
  name: string;
  latest: string;
  versions: Version[];
}

export class BackupProtector {
  constructor(
    private readonly cipher: EnvelopeCipher,
    private readonly backupKeyId: string,
  ) {}

  async seal(tenantId: string, collection: Collection, content: unknown): Promise<string> {
    const blob = await this.cipher.encrypt(this.scope(tenantId), aad(collection), Buffer.from(JSON.stringify(content), 'utf8'));
    return Buffer.concat([MAGIC, blob]).toString('base64url');
  }

  async open<T>(tenantId: string, collection: Collection, encoded: string): Promise<T> {
    const invalid = () => new BadParameter(INVALID);
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) throw invalid();
    const raw = Buffer.from(encoded, 'base64url');
    if (raw.length <= MAGIC.length || !raw.subarray(0, MAGIC.length).equals(MAGIC)) throw invalid();
    try {
      const plaintext = await this.cipher.decrypt(this.scope(tenantId), aad(collection), raw.subarray(MAGIC.length));
      return JSON.parse(plaintext.toString('utf8')) as T;
    } catch (error) {
      if ((error as { status?: number }).status === 503) throw error;
      throw invalid();
    }
  }

  /** Opens an object backup and refuses one of another kind or without versions. */
  async openObject<T extends ObjectBackup<unknown>>(tenantId: string, collection: Collection, encoded: string): Promise<T> {
    const content = await this.open<T>(tenantId, collection, encoded);
    if (content.collection !== collection || !Array.isArray(content.versions)) throw new BadParameter(INVALID);
    return content;
  }

  private scope(tenantId: string) {
    return { keyId: this.backupKeyId, context: { 'coffer:tenant': tenantId.toLowerCase(), 'coffer:purpose': 'backup' } };
  }
}

function aad(collection: Collection): string {
  return `coffer/backup/v1/${collection}`;
}
