import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemKey } from './layout.ts';
import { backoff } from './retry.ts';

/** BatchWriteItem takes at most 25 requests. */
const BATCH_LIMIT = 25;

/**
 * Deletes the items, 25 per BatchWriteItem, sending again what DynamoDB left unprocessed (it does so
 * under throttling) after a backoff, until nothing is left.
 */
export async function deleteItems(db: DynamoDBDocumentClient, table: string, keys: ItemKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_LIMIT) {
    let requests: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_LIMIT).map((key) => ({ DeleteRequest: { Key: key } }));
    for (let attempt = 0; requests && requests.length > 0; attempt++) {
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
      requests = result.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
      if (requests?.length) await backoff(attempt);
    }
  }
}
