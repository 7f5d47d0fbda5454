import { type VaultClock, vaultClock } from '../core/clock.ts';
import { BadParameter, Conflict, Forbidden } from '../core/errors.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { assertObjectName, MAX_VERSIONS_PER_BACKUP, parseVersion, printable } from './rules.ts';
import {
  type Collection,
  type DeletedHead,
  type MetadataUpdate,
  NameInUse,
  NameIsDeleted,
  type ObjectStore,
  type Page,
  type PlainMetadata,
  type StoredHead,
  type StoredVersion,
} from './store.ts';
import type { ObjectKind } from '../core/kinds.ts';
import { deletedObjectNotFound, objectManaged, objectNotFound, translateStoreError } from './errors.ts';

/**
 * The life cycle every versioned object kind shares (secrets, keys, later certificates): name rules,
 * latest-or-named version lookup, soft delete, recover, purge with purge protection, backup limits,
 * restore, and Azure's errors for each. The kind's service adds its own content and wire shapes.
 */
export class VersionedObjects {
  private readonly label: string;

  constructor(
    private readonly store: ObjectStore,
    readonly kind: ObjectKind,
    readonly collection: Collection,
    private readonly clock: VaultClock = vaultClock(),
  ) {
    this.label = kind.toLowerCase();
  }

  assertName(name: string): void {
    assertObjectName(this.label, name);
  }

  async head(at: VaultAddress, name: string): Promise<StoredHead> {
    this.assertName(name);
    const head = await this.store.getHead(at.vault.name, this.collection, name);
    if (!head) throw objectNotFound(this.kind, name);
    return head;
  }

  /**
   * The named version, or the latest when the version is empty or absent, as it is now: one request
   * to the store and no cache, so every read and every key operation checks the state a disable,
   * delete or expiry left a moment ago.
   */
  async version(at: VaultAddress, name: string, versionParam: string | undefined): Promise<StoredVersion> {
    this.assertName(name);
    const current = await this.store.getCurrent(at.vault.name, this.collection, name, parseVersion(this.label, versionParam));
    if (!current) throw objectNotFound(this.kind, name);
    if (!current.version) throw objectNotFound(this.kind, name, versionParam);
    return { ...current.version, name: current.head.name };
  }

  /**
   * Refuses a direct change of a managed object (a certificate's key or secret) with Azure's 403.
   * Checked on a head or version the operation read anyway, before any side effect; the store refuses
   * too (ManagedObject) for a change that races a certificate taking the name.
   */
  assertNotManaged(object: { plain: PlainMetadata }, operation: string): void {
    if (object.plain.managed === true) throw objectManaged(this.kind, operation);
  }

  /** `operation` names the request in a refusal of a managed object: set, create, import, rotate. */
  async add(at: VaultAddress, version: StoredVersion, operation = 'set'): Promise<StoredHead> {
    try {
      return await this.store.addVersion(at.vault.name, this.collection, version);
    } catch (error) {
      throw translateStoreError(this.kind, error, version.name, operation);
    }
  }

  async update(
    at: VaultAddress,
    name: string,
    versionParam: string | undefined,
    change: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion> {
    const version = parseVersion(this.label, versionParam);
    const head = await this.head(at, name);
    this.assertNotManaged(head, 'update');
    // The version is checked again as the store hands it over, inside its read-modify-write.
    const guarded = async (current: StoredVersion): Promise<MetadataUpdate> => {
      this.assertNotManaged(current, 'update');
      return change(current);
    };
    const updated = await this.store.updateVersion(at.vault.name, this.collection, name, version ?? head.latest, guarded).catch((error: unknown) => {
      throw translateStoreError(this.kind, error, name, 'update');
    });
    if (!updated) throw objectNotFound(this.kind, name, versionParam);
    return updated;
  }

  listHeads(at: VaultAddress, limit: number, cursor?: string): Promise<Page<StoredHead>> {
    return this.store.listHeads(at.vault.name, this.collection, limit, cursor);
  }

  /** Versions as heads of themselves. Azure lists an unknown or deleted object's versions as empty. */
  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<StoredHead>> {
    this.assertName(name);
    const page = await this.store.listVersions(at.vault.name, this.collection, name, limit, cursor);
    if (page.items.length > 0 && !(await this.store.getHead(at.vault.name, this.collection, name))) return { items: [] };
    return { ...page, items: page.items.map((v) => ({ ...v, latest: v.version, revision: 0 })) };
  }

  async softDelete(at: VaultAddress, name: string): Promise<DeletedHead> {
    this.assertName(name);
    const deletedDate = this.clock(at.vault.name);
    const deleted = await this.store
      .softDelete(at.vault.name, this.collection, name, {
        deletedDate,
        scheduledPurgeDate: deletedDate + at.vault.softDeleteRetentionDays * 86_400,
      })
      .catch((error: unknown) => {
        throw translateStoreError(this.kind, error, name, 'delete');
      });
    if (!deleted) throw objectNotFound(this.kind, name);
    return deleted;
  }

  async deleted(at: VaultAddress, name: string): Promise<DeletedHead> {
    this.assertName(name);
    const deleted = await this.store.getDeleted(at.vault.name, this.collection, name);
    if (!deleted) throw deletedObjectNotFound(this.kind, name);
    return deleted;
  }

  listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedHead>> {
    return this.store.listDeleted(at.vault.name, this.collection, limit, cursor);
  }

  async recover(at: VaultAddress, name: string): Promise<StoredVersion> {
    this.assertName(name);
    const head = await this.store.recover(at.vault.name, this.collection, name).catch((error: unknown) => {
      throw translateStoreError(this.kind, error, name, 'recover');
    });
    if (!head) throw deletedObjectNotFound(this.kind, name);
    const version = await this.store.getVersion(at.vault.name, this.collection, name, head.latest);
    if (!version) throw deletedObjectNotFound(this.kind, name);
    return { ...version, name: head.name };
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.assertPurgeable(at, name);
    const purged = await this.store.purge(at.vault.name, this.collection, name).catch((error: unknown) => {
      throw translateStoreError(this.kind, error, name, 'purge');
    });
    if (!purged) throw deletedObjectNotFound(this.kind, name);
  }

  /**
   * Refuses a purge before anything changes: the object must be deleted, not managed (a certificate's
   * key or secret goes with its certificate), and the vault must allow purging.
   */
  async assertPurgeable(at: VaultAddress, name: string): Promise<void> {
    this.assertNotManaged(await this.deleted(at, name), 'purge');
    if (at.vault.purgeProtection) {
      throw new Forbidden(
        'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
        'PurgeProtected',
      );
    }
  }

  /**
   * Refuses early a name that a live or soft-deleted object holds, so a kind can check before side
   * effects outside the store (KMS keys); a managed object's name is refused as managed, naming the
   * operation. The store checks again when it writes.
   */
  async assertNameFree(at: VaultAddress, name: string, operation = 'restore'): Promise<void> {
    this.assertName(name);
    const deleted = await this.store.getDeleted(at.vault.name, this.collection, name);
    if (deleted) {
      this.assertNotManaged(deleted, operation);
      throw translateStoreError(this.kind, new NameIsDeleted(name), name);
    }
    const head = await this.store.getHead(at.vault.name, this.collection, name);
    if (head) {
      this.assertNotManaged(head, operation);
      throw this.nameInUse(name);
    }
  }

  /**
   * Refuses early, before side effects outside the store (a new KMS key), a new version the store
   * would refuse: a name a soft-deleted object holds, or a managed live object. One more read than
   * assertNotDeleted, which is why only a kind with such side effects asks.
   */
  async assertVersionAddable(at: VaultAddress, name: string, operation: string): Promise<void> {
    this.assertName(name);
    const [deleted, head] = await Promise.all([
      this.store.getDeleted(at.vault.name, this.collection, name),
      this.store.getHead(at.vault.name, this.collection, name),
    ]);
    if (deleted) throw translateStoreError(this.kind, new NameIsDeleted(name), name);
    if (head) this.assertNotManaged(head, operation);
  }

  /** Refuses early a name a soft-deleted object holds; a live one is fine (a new version). */
  async assertNotDeleted(at: VaultAddress, name: string): Promise<void> {
    this.assertName(name);
    if (await this.store.getDeleted(at.vault.name, this.collection, name)) throw translateStoreError(this.kind, new NameIsDeleted(name), name);
  }

  /** The live object's head, or undefined; no name check (for re-reading the store after a failure). */
  findHead(at: VaultAddress, name: string): Promise<StoredHead | undefined> {
    return this.store.getHead(at.vault.name, this.collection, name);
  }

  /** The deleted object's head, or undefined; no name check (for re-reading the store after a failure). */
  findDeleted(at: VaultAddress, name: string): Promise<DeletedHead | undefined> {
    return this.store.getDeleted(at.vault.name, this.collection, name);
  }

  getAttachment(at: VaultAddress, name: string, attachment: string): Promise<Record<string, unknown> | undefined> {
    return this.store.getAttachment(at.vault.name, this.collection, name, attachment);
  }

  putAttachment(at: VaultAddress, name: string, attachment: string, document: Record<string, unknown>): Promise<void> {
    return this.store.putAttachment(at.vault.name, this.collection, name, attachment, document);
  }

  /** Every version of a live object for its backup, refused past Azure's backup limit or when managed. */
  async allVersions(at: VaultAddress, name: string): Promise<{ head: StoredHead; versions: StoredVersion[] }> {
    const head = await this.head(at, name);
    this.assertNotManaged(head, 'backup');
    const versions = await this.store.allVersions(at.vault.name, this.collection, name, MAX_VERSIONS_PER_BACKUP);
    if (versions.length > MAX_VERSIONS_PER_BACKUP) {
      throw new BadParameter(`Backup is not allowed for objects with more than ${MAX_VERSIONS_PER_BACKUP} versions.`);
    }
    return { head, versions };
  }

  /** Versions of a deleted or live object, for work on their KMS keys; no backup limit. */
  async versionsOf(at: VaultAddress, name: string): Promise<StoredVersion[]> {
    return this.store.allVersions(at.vault.name, this.collection, name, Number.MAX_SAFE_INTEGER - 1);
  }

  async restore(at: VaultAddress, versions: StoredVersion[], latest: string): Promise<StoredVersion> {
    const latestVersion = versions.find((v) => v.version === latest);
    if (!latestVersion) throw new BadParameter('Backup blob contains invalid or corrupt version.');
    try {
      await this.store.restore(at.vault.name, this.collection, versions, latest);
    } catch (error) {
      if (error instanceof NameInUse) throw this.nameInUse(latestVersion.name);
      throw translateStoreError(this.kind, error, latestVersion.name, 'restore');
    }
    return latestVersion;
  }

  private nameInUse(name: string): Conflict {
    return new Conflict(`${this.kind} ${printable(name)} already exists.`);
  }
}
