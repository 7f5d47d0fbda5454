import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../objects/store.ts';

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
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: table,
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

/** Every attribute goes through a placeholder: several of ours (name, attributes...) are reserved words. */
function projectionOf(attributes: string[]) {
  return {
    ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a])),
  };
}
