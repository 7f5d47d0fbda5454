import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '../api/dynamodb.ts';
import { ServiceUnavailable } from '../../core/errors.ts';
import type { ItemKey } from './layout.ts';
import { projectionOf } from './projection.ts';
import { queryPartition } from './paging.ts';
import { backoff } from './retry.ts';

/** BatchWriteItem takes at most 25 requests. */
const BATCH_LIMIT = 25;
/** A read on a request path gives up after this many answers that left keys unprocessed (throttling). */
const MAX_READ_ATTEMPTS = 8;
/**
 * A batch of deletes gives up after this many answers that left requests unprocessed: about 3 s of
 * backoff at its 200 ms ceiling. Every caller (a purge) is safe to run again over what is left.
 */
const MAX_DELETE_ATTEMPTS = 20;

/**
 * Deletes the items, 25 per BatchWriteItem, sending again what DynamoDB left unprocessed (it does so
 * under throttling) after a backoff. Under throttling that does not let up it stops, a 503 the caller
 * may retry, rather than hold the request (and its Lambda) until the function times out.
 */
export async function deleteItems(db: DynamoDBDocumentClient, table: string, keys: ItemKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_LIMIT) {
    let requests: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_LIMIT).map((key) => ({ DeleteRequest: { Key: key } }));
    for (let attempt = 0; requests && requests.length > 0; attempt++) {
      if (attempt === MAX_DELETE_ATTEMPTS) throw new ServiceUnavailable('The object store is overloaded; retry the request.');
      if (attempt > 0) await backoff(attempt - 1);
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
      requests = result.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
    }
  }
}

/** Every item of one partition gone (a pool's settings, its backup jobs at its purge). */
export async function deletePartition(db: DynamoDBDocumentClient, table: string, pk: string): Promise<void> {
  const items = await queryPartition(db, table, pk);
  await deleteItems(
    db,
    table,
    items.map((item) => ({ pk: String(item.pk), sk: String(item.sk) })),
  );
}

/**
 * A few items (at most 100) in one BatchGetItem, each read strongly consistent, found by their key in
 * the answer (DynamoDB answers in any order). What DynamoDB leaves unprocessed under throttling is
 * asked for again after a backoff, a bounded number of times: then the store is overloaded, a 503 the
 * caller may retry. The items are read one by one, not as one snapshot: callers read items whose
 * agreement the writers' transactions keep, or that cannot change under them.
 */
export async function getItems(
  db: DynamoDBDocumentClient,
  table: string,
  keys: ItemKey[],
  projection?: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let pending: ItemKey[] = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === MAX_READ_ATTEMPTS) throw new ServiceUnavailable('The object store is overloaded; retry the request.');
    if (attempt > 0) await backoff(attempt - 1);
    const result = await db.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true, ...(projection ? projectionOf(projection) : {}) } } }),
    );
    for (const item of result.Responses?.[table] ?? []) found.set(keyId(item as unknown as ItemKey), item);
    pending = (result.UnprocessedKeys?.[table]?.Keys ?? []) as ItemKey[];
  }
  return found;
}

/** How getItems' answer is keyed. */
export function keyId(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}
