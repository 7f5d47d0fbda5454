import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { localClient } from '../../dev/dynamodb.ts';
import type { AuditRecord } from '../../lib/audit/audit.ts';
import { parseAuditLine } from '../../lib/audit/log-stream.ts';
import { localStack } from './local.ts';

/**
 * Reading the audit table of the local stack. A request's record reaches the table a moment after
 * its response (the gateway delivers it from the functions' log stream, as the log subscription does
 * in AWS; a strict vault's record is there before the response): tests that look for a record wait
 * for it, a bounded time.
 */
export type AuditItem = Record<string, AttributeValue>;

/** Every item of the audit table with this request id (the whole table is scanned, page by page). */
export async function auditItems(requestId: string): Promise<AuditItem[]> {
  const info = localStack();
  const dynamo = localClient(info.endpoints.dynamodb);
  try {
    const items: AuditItem[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: info.tables.audit,
          FilterExpression: 'requestId = :id',
          ExpressionAttributeValues: { ':id': { S: requestId } },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  } finally {
    dynamo.destroy();
  }
}

/** The request's audit items once at least one was delivered; throws if none arrives within `timeoutMs`. */
export async function waitForAuditItems(requestId: string, timeoutMs = 20_000): Promise<AuditItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await auditItems(requestId);
    if (items.length > 0) return items;
    if (Date.now() > deadline) throw new Error(`no audit record of request ${requestId} was delivered within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The records of a request in a log file of audit lines (a function's log stream), as the delivery reads them. */
export function loggedAuditRecords(logText: string, requestId: string): AuditRecord[] {
  return logText
    .split('\n')
    .filter((line) => line.includes(requestId))
    .map(parseAuditLine)
    .flatMap((parsed) => (parsed.kind === 'record' && parsed.record.requestId === requestId ? [parsed.record] : []));
}
