import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from './api/dynamodb.ts';
import { AUDIT_BATCH_LIMIT, type AuditRecord, type AuditStore } from '../audit/audit.ts';
import type { AuditFilter, AuditPage, AuditReader } from '../audit/query.ts';
import { BadParameter } from '../core/errors.ts';
import { auditKey, auditPartitionKey, type ItemKey } from './dynamo/layout.ts';

/**
 * Queries one call makes at most: a query over a sparse year walks up to 366 day partitions, and a
 * request must not. The page then ends short with a continuation, and the caller follows it.
 */
const QUERIES_PER_PAGE = 32;

/** Items a filtered query reads per request at least: a selective filter drops most of what is read. */
const FILTERED_READ = 100;

/** Sorts after every request id in an sk that starts with the same time: the end of the range includes `endTime` itself. */
const AFTER_ANY_REQUEST_ID = '#\uffff';

/**
 * Audit records by vault and UTC day, so a security administrator reads a day with one Query. The
 * key is the record's own (vault, time, request id), so writing a record again replaces it with
 * itself: the delivery may send a record any number of times and the table holds it once.
 */
export class DynamoAuditStore implements AuditStore, AuditReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
  ) {}

  async put(record: AuditRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: this.item(record) }));
  }

  async putBatch(records: readonly AuditRecord[]): Promise<AuditRecord[]> {
    if (records.length === 0) return [];
    if (records.length > AUDIT_BATCH_LIMIT) throw new Error(`at most ${AUDIT_BATCH_LIMIT} audit records per batch`);
    const byKey = new Map(records.map((record) => [keyOf(this.key(record)), record]));
    const result = await this.db.send(
      new BatchWriteCommand({ RequestItems: { [this.table]: records.map((record) => ({ PutRequest: { Item: this.item(record) } })) } }),
    );
    return (result.UnprocessedItems?.[this.table] ?? []).flatMap((request) => {
      const record = byKey.get(keyOf(request.PutRequest?.Item as ItemKey));
      return record ? [record] : [];
    });
  }

  /**
   * Walks the day partitions from `endTime`'s back to `startTime`'s, each newest first, with the
   * optional filters applied by DynamoDB. The continuation is where the walk stopped: the sort key
   * of the last record returned (the walk goes on after it, in its day), or a day not yet begun.
   */
  async query(partition: string, filter: AuditFilter): Promise<AuditPage> {
    const firstDay = dayOf(filter.startTime);
    const low = filter.startTime;
    const high = `${filter.endTime}${AFTER_ANY_REQUEST_ID}`;
    const filtering = filterOf(filter);
    let position = filter.continuation === undefined ? { day: dayOf(filter.endTime) } : positionOf(filter.continuation);
    const records: AuditRecord[] = [];
    for (let queries = 0; queries < QUERIES_PER_PAGE; queries++) {
      // A start later than before (the retention window moved on since the last page) may pass the position: nothing is left.
      if (position.day < firstDay || (position.after !== undefined && position.after < low)) return { records };
      const wanted = filter.top - records.length;
      const pk = auditPartitionKey(partition, position.day);
      const { Items = [], LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
          ...(filtering.expression ? { FilterExpression: filtering.expression } : {}),
          ExpressionAttributeNames: filtering.names,
          ExpressionAttributeValues: { ':pk': pk, ':low': low, ':high': high, ...filtering.values },
          ScanIndexForward: false,
          // One more than the page needs, so a day that ends with the page is seen to end.
          Limit: filtering.expression ? Math.max(wanted + 1, FILTERED_READ) : wanted + 1,
          ...(position.after === undefined ? {} : { ExclusiveStartKey: { pk, sk: position.after } }),
        }),
      );
      if (Items.length > wanted) {
        const kept = Items.slice(0, wanted);
        records.push(...kept.map(recordOf));
        return { records, continuation: String(kept[kept.length - 1]!.sk) };
      }
      records.push(...Items.map(recordOf));
      position = LastEvaluatedKey ? { day: position.day, after: String(LastEvaluatedKey.sk) } : { day: previousDay(position.day) };
      if (records.length === filter.top) break;
    }
    if (position.day < firstDay) return { records };
    return { records, continuation: position.after ?? position.day };
  }

  private key(record: AuditRecord): ItemKey {
    return auditKey(record.vault, record.time, record.requestId);
  }

  private item(record: AuditRecord): Record<string, unknown> {
    const expiresAt = Math.floor(Date.parse(record.time) / 1000) + this.retentionDays * 86_400;
    return { ...this.key(record), ...record, expiresAt };
  }
}

interface Position {
  /** `YYYY-MM-DD`: the day partition the walk is in. */
  day: string;
  /** The sort key the walk goes on after, in that day; none: from the day's newest record. */
  after?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A continuation this store answered: a day (10 characters), or a record's sort key, which starts with its day. */
function positionOf(continuation: string): Position {
  const day = continuation.slice(0, 10);
  // Tokens are signed (lib/audit/query.ts), so only a token of an older release can fail here.
  if (!DAY.test(day) || (continuation.length > 10 && continuation[10] !== 'T')) throw new BadParameter("The '$skiptoken' parameter is invalid.");
  return continuation.length === 10 ? { day } : { day, after: continuation };
}

function dayOf(time: string): string {
  return time.slice(0, 10);
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
}

interface Filtering {
  expression?: string;
  names?: Record<string, string>;
  values: Record<string, unknown>;
}

/** The optional filters as one FilterExpression; the names are aliased, as `identity` and `id` may be reserved words. */
function filterOf(filter: AuditFilter): Filtering {
  const terms: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.principalId !== undefined) {
    terms.push('#identity.#oid = :principalId');
    Object.assign(names, { '#identity': 'identity', '#oid': 'oid' });
    values[':principalId'] = filter.principalId;
  }
  if (filter.operationName !== undefined) {
    terms.push('#operationName = :operationName');
    names['#operationName'] = 'operationName';
    values[':operationName'] = filter.operationName;
  }
  if (filter.objectId !== undefined) {
    // The object itself, or anything under it: a secret's filter finds the records of each of its versions.
    terms.push('(#id = :objectId OR begins_with(#id, :objectIdPrefix))');
    names['#id'] = 'id';
    values[':objectId'] = filter.objectId;
    values[':objectIdPrefix'] = filter.objectId.endsWith('/') ? filter.objectId : `${filter.objectId}/`;
  }
  return terms.length === 0 ? { values } : { expression: terms.join(' AND '), names, values };
}

/** An item without the table's own attributes. */
function recordOf(item: Record<string, unknown>): AuditRecord {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...record } = item;
  return record as AuditRecord;
}

function keyOf(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}
