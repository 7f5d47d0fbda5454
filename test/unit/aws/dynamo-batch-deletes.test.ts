import { describe, expect, it } from 'vitest';
import type { BatchWriteCommand, DynamoDBDocumentClient } from '../../../lib/aws/api/dynamodb.ts';
import { deleteItems } from '../../../lib/aws/dynamo/batch.ts';
import { ServiceUnavailable } from '../../../lib/core/errors.ts';

/**
 * deleteItems sends again what BatchWriteItem left unprocessed (DynamoDB does under throttling), and
 * under throttling that never lets up gives up with a 503 instead of retrying until the function
 * times out. A stand-in client answers as a throttled table would.
 */
const TABLE = 'objects';
const keys = (count: number) => Array.from({ length: count }, (_, i) => ({ pk: 'P', sk: `S${i}` }));

/** A client that leaves the first `unprocessed` requests of each call unprocessed, for `throttledCalls` calls. */
function throttledTable(throttledCalls: number, unprocessed = 1) {
  const calls: string[][] = [];
  const client = {
    send: async (command: BatchWriteCommand) => {
      const requests = command.input.RequestItems![TABLE]! as { DeleteRequest: { Key: { sk: string } } }[];
      calls.push(requests.map((request) => request.DeleteRequest.Key.sk));
      const left = calls.length <= throttledCalls ? requests.slice(0, unprocessed) : [];
      return { UnprocessedItems: left.length ? { [TABLE]: left } : {} };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, calls };
}

describe('deleteItems', () => {
  it('deletes in batches of 25 and sends again only what was left unprocessed', async () => {
    const { client, calls } = throttledTable(2);
    await deleteItems(client, TABLE, keys(30));
    // 25, then S0 twice more (left unprocessed by the first two answers), then the last 5.
    expect(calls.map((call) => call.length)).toEqual([25, 1, 1, 5]);
    expect(calls[1]).toEqual(['S0']);
    expect(calls[3]).toEqual(['S25', 'S26', 'S27', 'S28', 'S29']);
  });

  it('gives up with a 503 when the table keeps throttling, having sent a bounded number of times', async () => {
    const { client, calls } = throttledTable(Number.POSITIVE_INFINITY);
    const error = await deleteItems(client, TABLE, keys(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(calls.length).toBe(20);
  });
});
