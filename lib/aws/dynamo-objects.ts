import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from './api/dynamodb.ts';
import {
  type Collection,
  ConcurrentUpdate,
  type CurrentObject,
  type DeletedHead,
  type MetadataUpdate,
  NameInUse,
  NameIsDeleted,
  type ObjectStore,
  type Page,
  type StoredHead,
  type StoredVersion,
} from '../objects/store.ts';
import { deleteItems, getItems, keyId } from './dynamo/batch.ts';
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
  recoverTransaction,
  restoredVersionPut,
  restoreHeadCancellation,
  restoreHeadTransaction,
  softDeleteTransaction,
  transactWrite,
  updateVersionTransaction,
} from './dynamo/transactions.ts';

/** What a one-request read needs of the head and the version item: not the head's copy of its latest version. */
const CURRENT_ATTRIBUTES = [...new Set([...HEAD_SUMMARY_ATTRIBUTES, ...VERSION_SUMMARY_ATTRIBUTES, 'secret'])];

/**
 * The ObjectStore on one DynamoDB table. The item keys are in dynamo/layout.ts, the item
 * attributes in dynamo/object-items.ts, the conditional transactions in dynamo/transactions.ts; this
 * class reads, decides and retries.
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
        const head: StoredHead = {
          name: current?.name ?? version.name,
          latest: version.version,
          revision: (current?.revision ?? 0) + 1,
          attributes: version.attributes,
          meta: version.meta,
          plain: version.plain,
        };
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
        const head: StoredHead = {
          name: deleted.name,
          latest: deleted.latest,
          revision: deleted.revision + 1,
          attributes: deleted.attributes,
          meta: deleted.meta,
          plain: deleted.plain,
        };
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

  async purge(vault: string, collection: Collection, name: string): Promise<boolean> {
    // Mark first so a concurrent recover cannot bring back a head whose versions are half gone;
    // a purge interrupted after the mark is finished by the next purge of the same name.
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: deletedKey(vault, collection, name),
          UpdateExpression: 'SET #purging = :true',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#purging': 'purging' },
          ExpressionAttributeValues: { ':true': true },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    await this.deleteAllVersions(vault, collection, name);
    await this.deleteAttachments(vault, collection, name);
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: deletedKey(vault, collection, name) }));
    return true;
  }

  async restore(vault: string, collection: Collection, versions: StoredVersion[], latest: string): Promise<StoredHead> {
    const latestVersion = versions.find((v) => v.version === latest);
    if (!latestVersion) throw new Error('restore needs its latest version');
    const name = latestVersion.name;
    if (await this.getHead(vault, collection, name)) throw new NameInUse(name);
    if (await this.getDeleted(vault, collection, name)) throw new NameIsDeleted(name);
    const head: StoredHead = {
      name,
      latest,
      revision: 1,
      attributes: latestVersion.attributes,
      meta: latestVersion.meta,
      plain: latestVersion.plain,
    };
    const written: string[] = [];
    try {
      for (const version of versions) {
        if (version.version === latest) continue;
        await this.db.send(new PutCommand(restoredVersionPut(this.table, vault, collection, { ...version, name })));
        written.push(version.version);
      }
      // The head goes last with the latest version it copies, and only if the name is still free:
      // until then no reader sees the versions.
      await transactWrite(this.db, restoreHeadTransaction(this.table, vault, collection, head, { ...latestVersion, name }));
      return head;
    } catch (error) {
      await this.deleteVersions(vault, collection, name, written);
      const reasons = cancellationReasons(error);
      if (reasons && restoreHeadCancellation(reasons) === 'nameIsDeleted') throw new NameIsDeleted(name);
      if (reasons || isConditionFailure(error)) throw new NameInUse(name);
      throw error;
    }
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
