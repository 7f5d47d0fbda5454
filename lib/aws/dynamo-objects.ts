import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from './api/dynamodb.ts';
import {
  type Collection,
  ConcurrentUpdate,
  type CurrentObject,
  type DeletedHead,
  type LinkedRestore,
  type LinkedUpdate,
  type LinkedVersion,
  ManagedObject,
  type MetadataUpdate,
  NameInUse,
  NameIsDeleted,
  type ObjectStore,
  type Page,
  type StoredHead,
  type StoredVersion,
} from '../objects/store.ts';
import { deleteItems, getItems, keyId } from './dynamo/batch.ts';
import type { ItemKey } from './dynamo/layout.ts';
import { cancellationReasons, isConditionFailure } from './dynamo/errors.ts';
import {
  clean,
  HEAD_SUMMARY_ATTRIBUTES,
  latestFromHead,
  toDeleted,
  toHead,
  toVersion,
  VERSION_SUMMARY_ATTRIBUTES,
  versionRevision,
} from './dynamo/object-items.ts';
import {
  attachmentKey,
  attachmentPartition,
  deletedKey,
  deletedPartition,
  headKey,
  headPartition,
  versionKey,
  versionPartition,
} from './dynamo/layout.ts';
import { queryPage } from './dynamo/paging.ts';
import { retryConflicts, TRY_AGAIN } from './dynamo/retry.ts';
import {
  addVersionCancellation,
  addVersionTransaction,
  headStillAbsent,
  partCancelled,
  reasonsOfParts,
  recoverTransaction,
  restoredVersionPut,
  restoreHeadCancellation,
  restoreHeadTransaction,
  softDeleteTransaction,
  type TransactItem,
  transactWrite,
  transactWriteParts,
  updateVersionTransaction,
} from './dynamo/transactions.ts';

/** What a one-request read needs of the head and the version item: not the head's copy of its latest version. */
const CURRENT_ATTRIBUTES = [...new Set([...HEAD_SUMMARY_ATTRIBUTES, ...VERSION_SUMMARY_ATTRIBUTES, 'secret'])];

/**
 * The ObjectStore on one DynamoDB table. The item keys are in dynamo/layout.ts, the item
 * attributes in dynamo/object-items.ts, the conditional transactions in dynamo/transactions.ts; this
 * class reads, decides and retries.
 *
 * A linked write (a certificate with its managed key and secret) is one TransactWriteItems made of
 * each object's part as its single-object write builds it, so each object is held to the conditions
 * it has alone; the objects' current items are read in one BatchGetItem.
 */
export class DynamoObjectStore implements ObjectStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getHead(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: headKey(vault, collection, name), ConsistentRead: true }));
    return Item ? toHead(Item) : undefined;
  }

  async getVersion(vault: string, collection: Collection, name: string, version: string): Promise<StoredVersion | undefined> {
    return (await this.readVersion(vault, collection, name, version))?.version;
  }

  /**
   * The latest version is one GetItem of the head, which carries its copy; a head without one (a
   * secret too large to copy, or written before heads carried copies) costs a second read of the
   * version. A named version is one BatchGetItem of head and version; the head tells the object is
   * live, the version item its own current attributes (each write of a version's attributes is one
   * transaction with the head, so either read is as fresh as the other).
   */
  async getCurrent(vault: string, collection: Collection, name: string, version?: string): Promise<CurrentObject | undefined> {
    if (version === undefined) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: headKey(vault, collection, name), ConsistentRead: true }));
      if (!Item) return undefined;
      const head = toHead(Item);
      const latest = latestFromHead(Item, head) ?? (await this.getVersion(vault, collection, name, head.latest));
      return latest ? { head, version: { ...latest, name: head.name } } : { head };
    }
    const keys = { head: headKey(vault, collection, name), version: versionKey(vault, collection, name, version) };
    const items = await getItems(this.db, this.table, [keys.head, keys.version], CURRENT_ATTRIBUTES);
    const headItem = items.get(keyId(keys.head));
    if (!headItem) return undefined;
    const head = toHead(headItem);
    const versionItem = items.get(keyId(keys.version));
    return versionItem ? { head, version: { ...toVersion(versionItem), name: head.name } } : { head };
  }

  async addVersion(vault: string, collection: Collection, version: StoredVersion): Promise<StoredHead> {
    return retryConflicts(
      async () => {
        const current = await this.getHead(vault, collection, version.name);
        // The head's revision pins what we read: a head that became managed since makes us read again.
        if (isManaged(current) && version.plain.managed !== true) throw new ManagedObject(version.name);
        const head = headOnTop(version, current);
        try {
          await transactWrite(this.db, addVersionTransaction(this.table, vault, collection, { ...version, name: head.name }, head, current));
          return head;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (!reasons) throw error;
          const cancellation = addVersionCancellation(reasons);
          if (cancellation === 'nameIsDeleted') throw new NameIsDeleted(version.name);
          if (cancellation === 'headMoved') return TRY_AGAIN;
          throw error;
        }
      },
      () => new ConcurrentUpdate(version.name),
    );
  }

  async addLinkedVersions(vault: string, versions: LinkedVersion[]): Promise<StoredHead[]> {
    const collections = versions.map((v) => v.collection);
    const name = linkedName(
      collections,
      versions.map((v) => v.version.name),
    );
    return retryConflicts(
      async () => {
        const currents = await this.readHeads(vault, collections, name);
        const heads = versions.map(({ version }, i) => headOnTop(version, currents[i]));
        const parts = versions.map(({ collection, version }, i) =>
          addVersionTransaction(this.table, vault, collection, { ...version, name: heads[i]!.name }, heads[i]!, currents[i]),
        );
        try {
          await transactWriteParts(this.db, parts);
          return heads;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (!reasons) throw error;
          const cancellations = reasonsOfParts(reasons, parts).map(addVersionCancellation);
          if (cancellations.includes('nameIsDeleted')) throw new NameIsDeleted(name);
          if (cancellations.includes('headMoved')) return TRY_AGAIN;
          throw error;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async updateVersion(
    vault: string,
    collection: Collection,
    name: string,
    versionId: string,
    update: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion | undefined> {
    return retryConflicts(
      async () => {
        const head = await this.getHead(vault, collection, name);
        if (!head) return undefined;
        if (isManaged(head)) throw new ManagedObject(name);
        const current = await this.readVersion(vault, collection, name, versionId);
        if (!current) return undefined;
        const change = await update(current.version);
        try {
          await transactWrite(this.db, updateVersionTransaction(this.table, vault, collection, head, current, change));
          return { ...current.version, ...change };
        } catch (error) {
          if (!cancellationReasons(error)) throw error;
          return TRY_AGAIN;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async updateLinkedVersions(vault: string, name: string, versionId: string, updates: LinkedUpdate[]): Promise<StoredVersion[] | undefined> {
    const collections = updates.map((u) => u.collection);
    linkedName(collections, [name]);
    return retryConflicts(
      async () => {
        const keys = collections.flatMap((c) => [headKey(vault, c, name), versionKey(vault, c, name, versionId)]);
        const items = await getItems(this.db, this.table, keys);
        const reads = collections.map((collection) => {
          const headItem = items.get(keyId(headKey(vault, collection, name)));
          const versionItem = items.get(keyId(versionKey(vault, collection, name, versionId)));
          if (!headItem || !versionItem) return undefined;
          return { collection, head: toHead(headItem), current: { version: toVersion(versionItem), revision: versionRevision(versionItem) } };
        });
        if (!reads[0]) return undefined;
        const parts: TransactItem[][] = [];
        const updated: StoredVersion[] = [];
        for (const [i, read] of reads.entries()) {
          if (!read) continue;
          const change = await updates[i]!.update(read.current.version);
          parts.push(updateVersionTransaction(this.table, vault, read.collection, read.head, read.current, change));
          updated.push({ ...read.current.version, ...change });
        }
        try {
          await transactWriteParts(this.db, parts);
          return updated;
        } catch (error) {
          if (!cancellationReasons(error)) throw error;
          return TRY_AGAIN;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async listHeads(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<StoredHead>> {
    // Without the copies of the latest versions: a list never carries a value or private key.
    return queryPage(this.db, this.table, headPartition(vault, collection), limit, cursor, toHead, HEAD_SUMMARY_ATTRIBUTES);
  }

  async listVersions(vault: string, collection: Collection, name: string, limit: number, cursor?: string): Promise<Page<StoredVersion>> {
    return queryPage(this.db, this.table, versionPartition(vault, collection, name), limit, cursor, toVersion, VERSION_SUMMARY_ATTRIBUTES);
  }

  async allVersions(vault: string, collection: Collection, name: string, max: number): Promise<StoredVersion[]> {
    const versions: StoredVersion[] = [];
    let cursor: string | undefined;
    do {
      const limit = Math.min(100, max + 1 - versions.length);
      const page = await queryPage(this.db, this.table, versionPartition(vault, collection, name), limit, cursor, toVersion);
      versions.push(...page.items);
      cursor = page.cursor;
    } while (cursor && versions.length <= max);
    return versions;
  }

  async softDelete(
    vault: string,
    collection: Collection,
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead | undefined> {
    return retryConflicts(
      async () => {
        const head = await this.getHead(vault, collection, name);
        if (!head) return undefined;
        if (isManaged(head)) throw new ManagedObject(name);
        const deleted: DeletedHead = { ...head, revision: head.revision + 1, ...dates };
        try {
          await transactWrite(this.db, softDeleteTransaction(this.table, vault, collection, head, deleted));
          return deleted;
        } catch (error) {
          if (!cancellationReasons(error)) throw error;
          return TRY_AGAIN;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async softDeleteLinked(
    vault: string,
    collections: Collection[],
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead[] | undefined> {
    linkedName(collections, [name]);
    return retryConflicts(
      async () => {
        const heads = await this.readHeads(vault, collections, name);
        if (!heads[0]) return undefined;
        const deleted = heads.map((head) => head && { ...head, revision: head.revision + 1, ...dates });
        // An object absent when read must still be absent, or it would stay live beside its deleted certificate.
        const parts = collections.map((collection, i) =>
          heads[i]
            ? softDeleteTransaction(this.table, vault, collection, heads[i], deleted[i]!)
            : [headStillAbsent(this.table, vault, collection, name)],
        );
        try {
          await transactWriteParts(this.db, parts);
          return deleted.filter((head) => head !== undefined);
        } catch (error) {
          if (!cancellationReasons(error)) throw error;
          return TRY_AGAIN;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async getDeleted(vault: string, collection: Collection, name: string): Promise<DeletedHead | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: deletedKey(vault, collection, name), ConsistentRead: true }));
    return Item && !Item.purging ? toDeleted(Item) : undefined;
  }

  async listDeleted(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<DeletedHead>> {
    return queryPage(this.db, this.table, deletedPartition(vault, collection), limit, cursor, toDeleted);
  }

  async recover(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
    return retryConflicts(
      async () => {
        const deleted = await this.getDeleted(vault, collection, name);
        if (!deleted) return undefined;
        if (isManaged(deleted)) throw new ManagedObject(name);
        const head = recoveredHead(deleted);
        // The latest version as it is now, for the head's copy (a missing one leaves the head without).
        const latest = await this.readVersion(vault, collection, name, deleted.latest);
        try {
          await transactWrite(this.db, recoverTransaction(this.table, vault, collection, deleted, head, latest));
          return head;
        } catch (error) {
          // Another writer was first; a concurrent recover or purge leaves no deleted head to read again.
          if (cancellationReasons(error)) return TRY_AGAIN;
          throw error;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async recoverLinked(vault: string, collections: Collection[], name: string): Promise<StoredHead[] | undefined> {
    linkedName(collections, [name]);
    return retryConflicts(
      async () => {
        const deletedItems = await getItems(
          this.db,
          this.table,
          collections.map((c) => deletedKey(vault, c, name)),
        );
        const found = collections.map((collection) => {
          const item = deletedItems.get(keyId(deletedKey(vault, collection, name)));
          // A deleted head a purge has marked is on its way out: nothing to recover.
          return item && !item.purging ? { collection, deleted: toDeleted(item) } : undefined;
        });
        if (!found[0]) return undefined;
        const present = found.filter((object) => object !== undefined);
        // The latest versions as they are now, for the heads' copies, in one more request.
        const versionItems = await getItems(
          this.db,
          this.table,
          present.map(({ collection, deleted }) => versionKey(vault, collection, name, deleted.latest)),
        );
        const heads = present.map(({ deleted }) => recoveredHead(deleted));
        const parts = present.map(({ collection, deleted }, i) => {
          const item = versionItems.get(keyId(versionKey(vault, collection, name, deleted.latest)));
          const latest = item && { version: toVersion(item), revision: versionRevision(item) };
          return recoverTransaction(this.table, vault, collection, deleted, heads[i]!, latest);
        });
        try {
          await transactWriteParts(this.db, parts);
          return heads;
        } catch (error) {
          if (cancellationReasons(error)) return TRY_AGAIN;
          throw error;
        }
      },
      () => new ConcurrentUpdate(name),
    );
  }

  async purge(vault: string, collection: Collection, name: string): Promise<boolean> {
    return this.purgeObject(vault, collection, name, 'refuse managed');
  }

  /**
   * Checks first, purges after: the first collection's deleted object must be there (a purge mark
   * included: an interrupted purge is finished) and none of the objects live. The first collection's
   * object is marked at once, so recovering them together fails from then on, and purged last, so a
   * purge interrupted half-way still finds it and is finished by the next one.
   */
  async purgeLinked(vault: string, collections: Collection[], name: string): Promise<boolean> {
    linkedName(collections, [name]);
    const [first, ...others] = collections as [Collection, ...Collection[]];
    const firstDeleted = deletedKey(vault, first, name);
    const heads = collections.map((c) => headKey(vault, c, name));
    const found = await getItems(this.db, this.table, [firstDeleted, ...heads], ['pk', 'sk']);
    if (!found.has(keyId(firstDeleted))) return false;
    if (heads.some((key) => found.has(keyId(key)))) throw new NameInUse(name);
    if (!(await this.markPurging(vault, first, name, 'allow managed'))) return false;
    for (const collection of others) await this.purgeObject(vault, collection, name, 'allow managed');
    return this.purgeObject(vault, first, name, 'allow managed');
  }

  async restore(vault: string, collection: Collection, versions: StoredVersion[], latest: string): Promise<StoredHead> {
    const name = restoredName(versions, latest);
    const head = await this.getHead(vault, collection, name);
    if (head) throw isManaged(head) ? new ManagedObject(name) : new NameInUse(name);
    const deleted = await this.getDeleted(vault, collection, name);
    if (deleted) throw isManaged(deleted) ? new ManagedObject(name) : new NameIsDeleted(name);
    return (await this.writeRestored(vault, [{ collection, versions, latest }], name))[0]!;
  }

  async restoreLinked(vault: string, objects: LinkedRestore[]): Promise<StoredHead[]> {
    const name = linkedName(
      objects.map((o) => o.collection),
      objects.map((o) => restoredName(o.versions, o.latest)),
    );
    const heads = objects.map((o) => headKey(vault, o.collection, name));
    const deleted = objects.map((o) => deletedKey(vault, o.collection, name));
    const found = await getItems(this.db, this.table, [...heads, ...deleted], ['pk', 'sk']);
    if (heads.some((key) => found.has(keyId(key)))) throw new NameInUse(name);
    if (deleted.some((key) => found.has(keyId(key)))) throw new NameIsDeleted(name);
    return this.writeRestored(vault, objects, name);
  }

  async getAttachment(vault: string, collection: Collection, name: string, attachment: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: attachmentKey(vault, collection, name, attachment), ConsistentRead: true }),
    );
    return Item?.document as Record<string, unknown> | undefined;
  }

  async putAttachment(vault: string, collection: Collection, name: string, attachment: string, document: Record<string, unknown>): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...attachmentKey(vault, collection, name, attachment), document: clean(document) } }),
    );
  }

  /**
   * Writes restored objects whose names were free when read: the older versions first, then every
   * head in one transaction with the latest version it copies, and only if each name is still free:
   * until then no reader sees the versions. On failure the versions written are removed again.
   */
  private async writeRestored(vault: string, objects: LinkedRestore[], name: string): Promise<StoredHead[]> {
    const restored = objects.map(({ collection, versions, latest }) => {
      const latestVersion = versions.find((v) => v.version === latest)!;
      // Each object takes the casing of its own latest version, stored with every version.
      const objectName = latestVersion.name;
      const head: StoredHead = {
        name: objectName,
        latest,
        revision: 1,
        attributes: latestVersion.attributes,
        meta: latestVersion.meta,
        plain: latestVersion.plain,
      };
      return { collection, head, latestVersion: { ...latestVersion, name: objectName }, older: versions.filter((v) => v.version !== latest) };
    });
    const written: ItemKey[] = [];
    try {
      for (const { collection, head, older } of restored) {
        for (const version of older) {
          await this.db.send(new PutCommand(restoredVersionPut(this.table, vault, collection, { ...version, name: head.name })));
          written.push(versionKey(vault, collection, name, version.version));
        }
      }
      const parts = restored.map(({ collection, head, latestVersion }) => restoreHeadTransaction(this.table, vault, collection, head, latestVersion));
      try {
        await transactWriteParts(this.db, parts);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        const refusals = reasonsOfParts(reasons, parts).filter(partCancelled).map(restoreHeadCancellation);
        throw refusals.includes('nameIsDeleted') ? new NameIsDeleted(name) : new NameInUse(name);
      }
      return restored.map(({ head }) => head);
    } catch (error) {
      await deleteItems(this.db, this.table, written);
      if (isConditionFailure(error)) throw new NameInUse(name);
      throw error;
    }
  }

  /** The live heads of one name in these collections, in their order, read in one request. */
  private async readHeads(vault: string, collections: Collection[], name: string): Promise<(StoredHead | undefined)[]> {
    const keys = collections.map((c) => headKey(vault, c, name));
    const found = await getItems(this.db, this.table, keys, HEAD_SUMMARY_ATTRIBUTES);
    return keys.map((key) => {
      const item = found.get(keyId(key));
      return item && toHead(item);
    });
  }

  /** Marks the deleted head and removes its versions, attachments and itself; false when there is none. */
  private async purgeObject(vault: string, collection: Collection, name: string, managed: ManagedRule): Promise<boolean> {
    // Mark first so a concurrent recover cannot bring back a head whose versions are half gone;
    // a purge interrupted after the mark is finished by the next purge of the same name.
    if (!(await this.markPurging(vault, collection, name, managed))) return false;
    await this.deleteAllVersions(vault, collection, name);
    await this.deleteAttachments(vault, collection, name);
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: deletedKey(vault, collection, name) }));
    return true;
  }

  /**
   * Marks a deleted head `purging`; false when there is none. A purge of its own collection must not
   * mark a managed object (its certificate purges it): the condition refuses it with the mark, so a
   * head that became managed since any read cannot slip through, and a refusal is read again to tell.
   */
  private async markPurging(vault: string, collection: Collection, name: string, managed: ManagedRule): Promise<boolean> {
    const refuseManaged = managed === 'refuse managed';
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: deletedKey(vault, collection, name),
          UpdateExpression: 'SET #purging = :true',
          ConditionExpression: refuseManaged
            ? 'attribute_exists(pk) AND (attribute_not_exists(#plain.#managed) OR #plain.#managed <> :true)'
            : 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#purging': 'purging', ...(refuseManaged ? { '#plain': 'plain', '#managed': 'managed' } : {}) },
          ExpressionAttributeValues: { ':true': true },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (refuseManaged) {
        const { Item } = await this.db.send(
          new GetCommand({ TableName: this.table, Key: deletedKey(vault, collection, name), ConsistentRead: true }),
        );
        if (Item && isManaged(toDeleted(Item))) throw new ManagedObject(name);
      }
      return false;
    }
  }

  /** A version with the revision an update of it must find unchanged. */
  private async readVersion(
    vault: string,
    collection: Collection,
    name: string,
    version: string,
  ): Promise<{ version: StoredVersion; revision: number } | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: versionKey(vault, collection, name, version), ConsistentRead: true }),
    );
    return Item ? { version: toVersion(Item), revision: versionRevision(Item) } : undefined;
  }

  private async deleteAttachments(vault: string, collection: Collection, name: string): Promise<void> {
    const pk = attachmentPartition(vault, collection, name);
    const page = await queryPage(this.db, this.table, pk, 100, undefined, (item) => String(item.sk), ['pk', 'sk']);
    for (const sk of page.items) await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk } }));
  }

  private async deleteAllVersions(vault: string, collection: Collection, name: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await queryPage(this.db, this.table, versionPartition(vault, collection, name), 100, cursor, (item) => String(item.sk), [
        'pk',
        'sk',
      ]);
      await this.deleteVersions(vault, collection, name, page.items);
      cursor = page.cursor;
    } while (cursor);
  }

  private async deleteVersions(vault: string, collection: Collection, name: string, versionIds: string[]): Promise<void> {
    await deleteItems(
      this.db,
      this.table,
      versionIds.map((version) => versionKey(vault, collection, name, version)),
    );
  }
}

/** Whether a single-object purge may mark a managed object (only a linked purge may). */
type ManagedRule = 'refuse managed' | 'allow managed';

/** A managed object (a certificate's key or secret) changes only through the linked writes. */
function isManaged(head: StoredHead | undefined): boolean {
  return head?.plain.managed === true;
}

/** The head a new version makes, on top of the one read (keeping the casing it was created with). */
function headOnTop(version: StoredVersion, current: StoredHead | undefined): StoredHead {
  return {
    name: current?.name ?? version.name,
    latest: version.version,
    revision: (current?.revision ?? 0) + 1,
    attributes: version.attributes,
    meta: version.meta,
    plain: version.plain,
  };
}

function recoveredHead(deleted: DeletedHead): StoredHead {
  return {
    name: deleted.name,
    latest: deleted.latest,
    revision: deleted.revision + 1,
    attributes: deleted.attributes,
    meta: deleted.meta,
    plain: deleted.plain,
  };
}

/** A restored object takes the casing of its latest version, which must be among its versions. */
function restoredName(versions: StoredVersion[], latest: string): string {
  const latestVersion = versions.find((v) => v.version === latest);
  if (!latestVersion) throw new Error('restore needs its latest version');
  return latestVersion.name;
}

/**
 * The one name of a linked write, whose collections must be distinct (a transaction may touch an item
 * once); anything else is a caller's mistake.
 */
function linkedName(collections: Collection[], names: string[]): string {
  if (collections.length === 0) throw new Error('a linked write needs at least one object');
  if (new Set(collections).size !== collections.length) throw new Error('a linked write names each collection once');
  if (new Set(names.map((n) => n.toLowerCase())).size !== 1) throw new Error('a linked write is about objects of one name');
  return names[0]!;
}
