import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Collection,
  ConcurrentUpdate,
  type DeletedHead,
  type MetadataUpdate,
  NameInUse,
  NameIsDeleted,
  type ObjectStore,
  type Page,
  type StoredHead,
  type StoredVersion,
} from '../objects/store.ts';

/** See lib/aws/tables.ts for the item layout. */
const MAX_WRITE_ATTEMPTS = 25;

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
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: versionKey(vault, collection, name, version), ConsistentRead: true }),
    );
    return Item ? toVersion(Item) : undefined;
  }

  async addVersion(vault: string, collection: Collection, version: StoredVersion): Promise<StoredHead> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.getHead(vault, collection, version.name);
      const head: StoredHead = {
        name: current?.name ?? version.name,
        latest: version.version,
        revision: (current?.revision ?? 0) + 1,
        attributes: version.attributes,
        meta: version.meta,
        plain: version.plain,
      };
      const storedVersion = { ...version, name: head.name };
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { ...versionKey(vault, collection, version.name, version.version), ...versionItem(storedVersion) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: { ...headKey(vault, collection, version.name), ...headItem(head) },
                  ...revisionCondition(current),
                },
              },
              {
                ConditionCheck: {
                  TableName: this.table,
                  Key: deletedKey(vault, collection, version.name),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        return head;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        if (reasons[2] === 'ConditionalCheckFailed') throw new NameIsDeleted(version.name);
        // Another writer moved the head first: read it again and go on top of it.
        if (reasons[1] === 'ConditionalCheckFailed' || reasons.includes('TransactionConflict')) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
    throw new ConcurrentUpdate(version.name);
  }

  async updateVersion(
    vault: string,
    collection: Collection,
    name: string,
    versionId: string,
    update: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion | undefined> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const head = await this.getHead(vault, collection, name);
      if (!head) return undefined;
      const current = await this.getVersion(vault, collection, name, versionId);
      if (!current) return undefined;
      const change = await update(current);
      const updated: StoredVersion = { ...current, ...change };
      const writes: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Update: {
            TableName: this.table,
            Key: versionKey(vault, collection, name, versionId),
            UpdateExpression: 'SET #attributes = :attributes, #meta = :meta, #plain = :plain',
            ConditionExpression: '#attributes.#updated = :previous',
            ExpressionAttributeNames: { '#attributes': 'attributes', '#meta': 'meta', '#plain': 'plain', '#updated': 'updated' },
            ExpressionAttributeValues: {
              ':attributes': clean(change.attributes),
              ':meta': change.meta,
              ':plain': clean(change.plain),
              ':previous': current.attributes.updated,
            },
          },
        },
      ];
      // The head carries a copy of the latest version's metadata, so it changes with it.
      if (head.latest === versionId) {
        writes.push({
          Put: {
            TableName: this.table,
            Item: {
              ...headKey(vault, collection, name),
              ...headItem({ ...head, revision: head.revision + 1, attributes: change.attributes, meta: change.meta, plain: change.plain }),
            },
            ...revisionCondition(head),
          },
        });
      } else {
        writes.push({
          ConditionCheck: {
            TableName: this.table,
            Key: headKey(vault, collection, name),
            ConditionExpression: '#revision = :revision',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': head.revision },
          },
        });
      }
      try {
        await this.db.send(new TransactWriteCommand({ TransactItems: writes }));
        return updated;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        await backoff(attempt);
      }
    }
    throw new ConcurrentUpdate(name);
  }

  async listHeads(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<StoredHead>> {
    return this.queryPage(headPartition(vault, collection), limit, cursor, toHead);
  }

  async listVersions(vault: string, collection: Collection, name: string, limit: number, cursor?: string): Promise<Page<StoredVersion>> {
    return this.queryPage(versionPartition(vault, collection, name), limit, cursor, toVersion, ['pk', 'sk', 'name', 'version', 'attributes', 'meta', 'plain']);
  }

  async allVersions(vault: string, collection: Collection, name: string, max: number): Promise<StoredVersion[]> {
    const versions: StoredVersion[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.queryPage(versionPartition(vault, collection, name), Math.min(100, max + 1 - versions.length), cursor, toVersion);
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
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const head = await this.getHead(vault, collection, name);
      if (!head) return undefined;
      const deleted: DeletedHead = { ...head, revision: head.revision + 1, ...dates };
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: headKey(vault, collection, name),
                  ConditionExpression: '#revision = :revision',
                  ExpressionAttributeNames: { '#revision': 'revision' },
                  ExpressionAttributeValues: { ':revision': head.revision },
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: { ...deletedKey(vault, collection, name), ...headItem(deleted), deletedDate: dates.deletedDate, scheduledPurgeDate: dates.scheduledPurgeDate },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        return deleted;
      } catch (error) {
        if (!cancellationReasons(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new ConcurrentUpdate(name);
  }

  async getDeleted(vault: string, collection: Collection, name: string): Promise<DeletedHead | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: deletedKey(vault, collection, name), ConsistentRead: true }));
    return Item && !Item.purging ? toDeleted(Item) : undefined;
  }

  async listDeleted(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<DeletedHead>> {
    return this.queryPage(deletedPartition(vault, collection), limit, cursor, toDeleted);
  }

  async recover(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
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
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: deletedKey(vault, collection, name),
                ConditionExpression: '#revision = :revision AND attribute_not_exists(#purging)',
                ExpressionAttributeNames: { '#revision': 'revision', '#purging': 'purging' },
                ExpressionAttributeValues: { ':revision': deleted.revision },
              },
            },
            { Put: { TableName: this.table, Item: { ...headKey(vault, collection, name), ...headItem(head) }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return head;
    } catch (error) {
      // A concurrent recover or purge won: the object is no longer in the deleted state we read.
      if (cancellationReasons(error)) return undefined;
      throw error;
    }
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
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...versionKey(vault, collection, name, version.version), ...versionItem({ ...version, name }) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        written.push(version.version);
      }
      // The head goes last and only if the name is still free: until then no reader sees the versions.
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { ...headKey(vault, collection, name), ...headItem(head) }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { ConditionCheck: { TableName: this.table, Key: deletedKey(vault, collection, name), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return head;
    } catch (error) {
      await this.deleteVersions(vault, collection, name, written);
      const reasons = cancellationReasons(error);
      if (reasons?.[1] === 'ConditionalCheckFailed') throw new NameIsDeleted(name);
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
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...attachmentKey(vault, collection, name, attachment), document: clean(document) } }));
  }

  private async deleteAttachments(vault: string, collection: Collection, name: string): Promise<void> {
    const pk = attachmentPartition(vault, collection, name);
    const page = await this.queryPage(pk, 100, undefined, (item) => String(item.sk), ['pk', 'sk']);
    for (const sk of page.items) await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk } }));
  }

  private async deleteAllVersions(vault: string, collection: Collection, name: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.queryPage(versionPartition(vault, collection, name), 100, cursor, (item) => String(item.sk), ['pk', 'sk']);
      await this.deleteVersions(vault, collection, name, page.items);
      cursor = page.cursor;
    } while (cursor);
  }

  private async deleteVersions(vault: string, collection: Collection, name: string, versionIds: string[]): Promise<void> {
    for (let i = 0; i < versionIds.length; i += 25) {
      let requests: Record<string, unknown>[] | undefined = versionIds
        .slice(i, i + 25)
        .map((v) => ({ DeleteRequest: { Key: versionKey(vault, collection, name, v) } }));
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        const result = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests as never } }));
        requests = result.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
        if (requests?.length) await backoff(attempt);
      }
    }
  }

  /**
   * One page of a partition. Asks for one item more than the page holds so the last page carries no
   * cursor (DynamoDB alone would hand out a cursor to an empty page when the partition ends exactly).
   */
  private async queryPage<T>(
    pk: string,
    limit: number,
    cursor: string | undefined,
    convert: (item: Record<string, unknown>) => T,
    projection?: string[],
  ): Promise<Page<T>> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: cursor === undefined ? undefined : { pk, sk: cursor },
        Limit: limit + 1,
        ConsistentRead: true,
        ...(projection ? projectionOf(projection) : {}),
      }),
    );
    const visible = Items.filter((item) => !item.purging);
    const pageItems = Items.slice(0, limit);
    const items = pageItems.filter((item) => visible.includes(item)).map(convert);
    const last = pageItems[pageItems.length - 1];
    return { items, cursor: Items.length > limit && last ? String(last.sk) : undefined };
  }
}

/** Every attribute goes through a placeholder: several of ours (name, attributes...) are reserved words. */
function projectionOf(attributes: string[]) {
  return {
    ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a])),
  };
}

function lower(name: string): string {
  return name.toLowerCase();
}
function headPartition(vault: string, collection: Collection): string {
  return `${vault}#${collection}`;
}
function deletedPartition(vault: string, collection: Collection): string {
  return `${vault}#deleted${collection}`;
}
function versionPartition(vault: string, collection: Collection, name: string): string {
  return `${vault}#${collection}#${lower(name)}`;
}
function attachmentPartition(vault: string, collection: Collection, name: string): string {
  return `${vault}#${collection}-attachments#${lower(name)}`;
}
function attachmentKey(vault: string, collection: Collection, name: string, attachment: string) {
  return { pk: attachmentPartition(vault, collection, name), sk: attachment };
}
function headKey(vault: string, collection: Collection, name: string) {
  return { pk: headPartition(vault, collection), sk: lower(name) };
}
function deletedKey(vault: string, collection: Collection, name: string) {
  return { pk: deletedPartition(vault, collection), sk: lower(name) };
}
function versionKey(vault: string, collection: Collection, name: string, version: string) {
  return { pk: versionPartition(vault, collection, name), sk: version };
}

function headItem(head: StoredHead) {
  return {
    name: head.name,
    latest: head.latest,
    revision: head.revision,
    attributes: clean(head.attributes),
    meta: head.meta,
    plain: clean(head.plain),
  };
}

function versionItem(version: StoredVersion) {
  return {
    name: version.name,
    version: version.version,
    attributes: clean(version.attributes),
    meta: version.meta,
    ...(version.secret ? { secret: version.secret } : {}),
    plain: clean(version.plain),
  };
}

function toHead(item: Record<string, unknown>): StoredHead {
  return {
    name: item.name as string,
    latest: item.latest as string,
    revision: item.revision as number,
    attributes: item.attributes as StoredHead['attributes'],
    meta: item.meta as Uint8Array,
    plain: (item.plain ?? {}) as StoredHead['plain'],
  };
}

function toDeleted(item: Record<string, unknown>): DeletedHead {
  return { ...toHead(item), deletedDate: item.deletedDate as number, scheduledPurgeDate: item.scheduledPurgeDate as number };
}

function toVersion(item: Record<string, unknown>): StoredVersion {
  return {
    name: item.name as string,
    version: item.version as string,
    attributes: item.attributes as StoredVersion['attributes'],
    meta: item.meta as Uint8Array,
    ...(item.secret ? { secret: item.secret as Uint8Array } : {}),
    plain: (item.plain ?? {}) as StoredVersion['plain'],
  };
}

/** DynamoDB rejects undefined attribute values; optional fields are simply left out. */
function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function revisionCondition(current: StoredHead | undefined) {
  return current
    ? {
        ConditionExpression: '#revision = :revision',
        ExpressionAttributeNames: { '#revision': 'revision' },
        ExpressionAttributeValues: { ':revision': current.revision },
      }
    : { ConditionExpression: 'attribute_not_exists(pk)' };
}

function cancellationReasons(error: unknown): string[] | undefined {
  if (error instanceof TransactionCanceledException || (error as { name?: string })?.name === 'TransactionCanceledException') {
    return ((error as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  }
  return undefined;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

async function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 5 * 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
