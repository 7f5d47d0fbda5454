import { type DynamoDBDocumentClient, TransactWriteCommand, type TransactWriteCommandInput } from '../api/dynamodb.ts';
import type { Collection, DeletedHead, MetadataUpdate, StoredHead, StoredVersion } from '../../objects/store.ts';
import { CONDITION_FAILED, TRANSACTION_CONFLICT } from './errors.ts';
import { clean, deletedHeadItem, headItem, latestCopyOf, versionItem } from './object-items.ts';
import { deletedKey, headKey, versionKey } from './layout.ts';

/**
 * The conditional transactions that change a versioned object, and what their cancellation reasons
 * mean. DynamoDB reports one reason per item in the order the items were sent, so each shape and the
 * reading of its reasons live side by side.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export async function transactWrite(db: DynamoDBDocumentClient, items: TransactItem[]): Promise<void> {
  await db.send(new TransactWriteCommand({ TransactItems: items }));
}

const MUST_NOT_EXIST = { ConditionExpression: 'attribute_not_exists(pk)' };

/** TransactWriteItems takes at most 100 items; a linked write of three objects needs about 9. */
const TRANSACTION_MAX_ITEMS = 100;

/**
 * One transaction made of several objects' parts (a linked write: a certificate, its key and its
 * secret), each part built as the single-object write would be, so each object's conditions are the
 * ones it has alone. All land or none.
 */
export async function transactWriteParts(db: DynamoDBDocumentClient, parts: TransactItem[][]): Promise<void> {
  const items = parts.flat();
  if (items.length > TRANSACTION_MAX_ITEMS) throw new Error(`a linked write of ${items.length} items is more than one transaction takes`);
  await transactWrite(db, items);
}

/**
 * The cancellation reasons of a transaction of parts, split back into each part's, so each part's
 * reasons read as its single-object transaction's would.
 */
export function reasonsOfParts(reasons: string[], parts: TransactItem[][]): string[][] {
  let start = 0;
  return parts.map((part) => {
    const own = reasons.slice(start, start + part.length);
    start += part.length;
    return own;
  });
}

/** Whether a part's own items cancelled the transaction (another part's leave its reasons all `None`). */
export function partCancelled(reasons: string[]): boolean {
  return reasons.some((reason) => reason !== 'None');
}

/**
 * An object of a linked write that was absent when read must still be: a writer that created it since
 * is a race lost, read again.
 */
export function headStillAbsent(table: string, vault: string, collection: Collection, name: string): TransactItem {
  return { ConditionCheck: { TableName: table, Key: headKey(vault, collection, name), ...MUST_NOT_EXIST } };
}

function revisionIs(revision: number) {
  return {
    ConditionExpression: '#revision = :revision',
    ExpressionAttributeNames: { '#revision': 'revision' },
    ExpressionAttributeValues: { ':revision': revision },
  };
}

/** The head is still the one we read, or there is still none if we read none. */
function headUnchanged(current: StoredHead | undefined) {
  return current ? revisionIs(current.revision) : MUST_NOT_EXIST;
}

/** A version read with this revision: a version never updated has none yet, and it must still exist. */
function versionUnchanged(revision: number) {
  if (revision > 0) return revisionIs(revision);
  return { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#revision)', ExpressionAttributeNames: { '#revision': 'revision' } };
}

/** A head item carrying a copy of its latest version (when small enough, see object-items.ts). */
function headWithCopy(vault: string, collection: Collection, head: StoredHead, latest: Pick<StoredVersion, 'secret'>) {
  return { ...headKey(vault, collection, head.name), ...headItem(head), ...latestCopyOf(latest) };
}

/**
 * A new version: put the version (it must not exist), put the head, with its copy of the version, on
 * top of the one we read, and check that no deleted head holds the name.
 */
export function addVersionTransaction(
  table: string,
  vault: string,
  collection: Collection,
  version: StoredVersion,
  head: StoredHead,
  current: StoredHead | undefined,
): TransactItem[] {
  return [
    {
      Put: {
        TableName: table,
        Item: { ...versionKey(vault, collection, version.name, version.version), ...versionItem(version) },
        ...MUST_NOT_EXIST,
      },
    },
    { Put: { TableName: table, Item: headWithCopy(vault, collection, head, version), ...headUnchanged(current) } },
    { ConditionCheck: { TableName: table, Key: deletedKey(vault, collection, version.name), ...MUST_NOT_EXIST } },
  ];
}

/**
 * Why an add was cancelled: a deleted head holds the name, another writer moved the head first (read
 * it again and go on top of it), or neither (undefined: not ours to handle).
 */
export function addVersionCancellation(reasons: string[]): 'nameIsDeleted' | 'headMoved' | undefined {
  if (reasons[2] === CONDITION_FAILED) return 'nameIsDeleted';
  if (reasons[1] === CONDITION_FAILED || reasons.includes(TRANSACTION_CONFLICT)) return 'headMoved';
  return undefined;
}

/**
 * New metadata for a version, on condition that nobody changed it since we read it: its revision is
 * still the one we read (its `updated` would not do, two writers in one second stamp the same one).
 * The head carries a copy of the latest version, so it changes with it (its secret copied from the
 * version as read, which the version's condition pins; a head written before heads carried the copy
 * gains it here); for an older version the head must merely be unchanged. Any cancellation means
 * another writer was first.
 */
export function updateVersionTransaction(
  table: string,
  vault: string,
  collection: Collection,
  head: StoredHead,
  current: { version: StoredVersion; revision: number },
  change: MetadataUpdate,
): TransactItem[] {
  const name = head.name;
  // A version never updated has no revision yet; it must still exist, or the update would create it.
  const unchanged = versionUnchanged(current.revision);
  const versionUpdate: TransactItem = {
    Update: {
      TableName: table,
      Key: versionKey(vault, collection, name, current.version.version),
      UpdateExpression: 'SET #attributes = :attributes, #meta = :meta, #plain = :plain, #revision = :next',
      ConditionExpression: unchanged.ConditionExpression,
      ExpressionAttributeNames: { '#attributes': 'attributes', '#meta': 'meta', '#plain': 'plain', '#revision': 'revision' },
      ExpressionAttributeValues: {
        ':attributes': clean(change.attributes),
        ':meta': change.meta,
        ':plain': clean(change.plain),
        ':next': current.revision + 1,
        ...('ExpressionAttributeValues' in unchanged ? unchanged.ExpressionAttributeValues : {}),
      },
    },
  };
  if (head.latest === current.version.version) {
    const updatedHead: StoredHead = { ...head, revision: head.revision + 1, attributes: change.attributes, meta: change.meta, plain: change.plain };
    return [
      versionUpdate,
      { Put: { TableName: table, Item: headWithCopy(vault, collection, updatedHead, current.version), ...headUnchanged(head) } },
    ];
  }
  return [versionUpdate, { ConditionCheck: { TableName: table, Key: headKey(vault, collection, name), ...revisionIs(head.revision) } }];
}

/** Moves the head we read into the deleted space; any cancellation means another writer was first. */
export function softDeleteTransaction(table: string, vault: string, collection: Collection, head: StoredHead, deleted: DeletedHead): TransactItem[] {
  return [
    { Delete: { TableName: table, Key: headKey(vault, collection, head.name), ...revisionIs(head.revision) } },
    { Put: { TableName: table, Item: { ...deletedKey(vault, collection, head.name), ...deletedHeadItem(deleted) }, ...MUST_NOT_EXIST } },
  ];
}

/**
 * Brings the deleted head we read back, unless a purge has started on it or a live head holds the
 * name. The head gets its copy of the latest version again (deleted heads carry none), from the
 * version as read and pinned by a condition on it. Any cancellation means another writer was first:
 * read again.
 */
export function recoverTransaction(
  table: string,
  vault: string,
  collection: Collection,
  deleted: DeletedHead,
  head: StoredHead,
  latest: { version: StoredVersion; revision: number } | undefined,
): TransactItem[] {
  const headPut: TransactItem = latest
    ? { Put: { TableName: table, Item: headWithCopy(vault, collection, head, latest.version), ...MUST_NOT_EXIST } }
    : { Put: { TableName: table, Item: { ...headKey(vault, collection, head.name), ...headItem(head) }, ...MUST_NOT_EXIST } };
  const latestCheck: TransactItem[] = latest
    ? [{ ConditionCheck: { TableName: table, Key: versionKey(vault, collection, head.name, head.latest), ...versionUnchanged(latest.revision) } }]
    : [];
  return [
    {
      Delete: {
        TableName: table,
        Key: deletedKey(vault, collection, deleted.name),
        ConditionExpression: '#revision = :revision AND attribute_not_exists(#purging)',
        ExpressionAttributeNames: { '#revision': 'revision', '#purging': 'purging' },
        ExpressionAttributeValues: { ':revision': deleted.revision },
      },
    },
    headPut,
    ...latestCheck,
  ];
}

/**
 * The head of a restored object with its latest version, written after the older versions and only if
 * the name is still free: the head and the version it copies land together.
 */
export function restoreHeadTransaction(
  table: string,
  vault: string,
  collection: Collection,
  head: StoredHead,
  latest: StoredVersion,
): TransactItem[] {
  return [
    { Put: { TableName: table, Item: headWithCopy(vault, collection, head, latest), ...MUST_NOT_EXIST } },
    { ConditionCheck: { TableName: table, Key: deletedKey(vault, collection, head.name), ...MUST_NOT_EXIST } },
    restoredVersion(table, vault, collection, latest),
  ];
}

/** Why a restored head was refused: a deleted object holds the name, or a live one (or its latest version) does. */
export function restoreHeadCancellation(reasons: string[]): 'nameIsDeleted' | 'nameInUse' {
  return reasons[1] === CONDITION_FAILED ? 'nameIsDeleted' : 'nameInUse';
}

/** A restored version; it must not exist yet. */
export function restoredVersionPut(table: string, vault: string, collection: Collection, version: StoredVersion) {
  return { TableName: table, Item: { ...versionKey(vault, collection, version.name, version.version), ...versionItem(version) }, ...MUST_NOT_EXIST };
}

function restoredVersion(table: string, vault: string, collection: Collection, version: StoredVersion): TransactItem {
  return { Put: restoredVersionPut(table, vault, collection, version) };
}
