import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { localClient } from '../../dev/dynamodb.ts';
import type { AuditRecord } from '../../lib/audit/audit.ts';
import { parseAuditLine } from '../../lib/audit/log-stream.ts';
import { decodePackRecords } from '../../lib/audit/packs.ts';
import { localStack } from './local.ts';

/**
 * Reading the audit table of the local stack. A request's record reaches the table a moment after
 * its response (the gateway delivers it from the functions' log stream, as the log subscription does
 * in AWS; a strict vault's record is there before the response): tests that look for a record wait
 * for it, a bounded time. The delivery writes records in packs (lib/audit/packs.ts), so an item may
 * hold many records, compressed; a lone record is an item of its own with its fields as attributes.
 */
export type AuditItem = Record<string, AttributeValue>;

/** Packs do not change once written (their key names their records), so each is opened once per test file. */
const opened = new Map<string, AuditRecord[]>();

/** The records an item of the audit table holds: a pack's, or the lone record it is. */
export function storedRecords(item: AuditItem): AuditRecord[] {
  const compressed = item.records?.B;
  if (!compressed) {
    const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...record } = unmarshall(item);
    return [record as AuditRecord];
  }
  const key = `${item.pk?.S}\u0000${item.sk?.S}`;
  const records = opened.get(key) ?? decodePackRecords(compressed);
  opened.set(key, records);
  return records;
}

/**
 * This request's records in the audit table, one entry per copy stored (the whole table is scanned,
 * page by page), each as a lone record's item holds it: its fields as attributes.
 */
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
          FilterExpression: 'requestId = :id OR attribute_exists(#records)',
          ExpressionAttributeNames: { '#records': 'records' },
          ExpressionAttributeValues: { ':id': { S: requestId } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? [])
        for (const record of storedRecords(item)) if (record.requestId === requestId) items.push(marshall(record, { removeUndefinedValues: true }));
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
