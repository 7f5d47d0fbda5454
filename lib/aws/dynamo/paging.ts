import { type DynamoDBDocumentClient, QueryCommand } from '../api/dynamodb.ts';
import type { Page } from '../../objects/store.ts';
import { projectionOf } from './projection.ts';

/**
 * One page of a partition, in sort-key order. The cursor is the sort key of the page's last item; the
 * next page starts after it. Asks for one item more than the page holds so the last page carries no
 * cursor (DynamoDB alone would hand out a cursor to an empty page when the partition ends exactly).
 * Items marked `purging` (a deleted head a purge is removing) count towards the page but are not shown.
 */
export async function queryPage<T>(
  db: DynamoDBDocumentClient,
  table: string,
  pk: string,
  limit: number,
  cursor: string | undefined,
  convert: (item: Record<string, unknown>) => T,
  projection?: string[],
): Promise<Page<T>> {
  const found = await queryItems(db, table, pk, limit + 1, cursor === undefined ? undefined : { pk, sk: cursor }, projection);
  const pageItems = found.slice(0, limit);
  const items = pageItems.filter((item) => !item.purging).map(convert);
  const last = pageItems[pageItems.length - 1];
  return { items, cursor: found.length > limit && last ? String(last.sk) : undefined };
}

/**
 * Up to `wanted` items from the start key on. A response stops at 1 MB whatever its Limit, and says so
 * only by its LastEvaluatedKey: a short response is not the end of the partition, so read on from
 * there until the items are all in or DynamoDB has none left.
 */
async function queryItems(
  db: DynamoDBDocumentClient,
  table: string,
  pk: string,
  wanted: number,
  startKey: Record<string, unknown> | undefined,
  projection: string[] | undefined,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let exclusiveStartKey = startKey;
  do {
    const { Items = [], LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: exclusiveStartKey,
        Limit: wanted - items.length,
        ConsistentRead: true,
        ...(projection ? projectionOf(projection) : {}),
      }),
    );
    items.push(...Items);
    exclusiveStartKey = LastEvaluatedKey;
  } while (exclusiveStartKey && items.length < wanted);
  return items;
}

/** Every item of a partition, keys and all, in sort-key order (purges and whole-partition listings). */
export async function queryPartition(db: DynamoDBDocumentClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const result = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((result.Items ?? []) as Record<string, unknown>[]));
    start = result.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  return items;
}
