import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from './api/dynamodb.ts';
import { AUDIT_BATCH_LIMIT, type AuditRecord, type AuditStore } from '../audit/audit.ts';
import { auditKey, type ItemKey } from './dynamo/layout.ts';

/**
 * Audit records by vault and UTC day, so a security administrator reads a day with one Query. The
 * key is the record's own (vault, time, request id), so writing a record again replaces it with
 * itself: the delivery may send a record any number of times and the table holds it once.
 */
export class DynamoAuditStore implements AuditStore {
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

  private key(record: AuditRecord): ItemKey {
    return auditKey(record.vault, record.time, record.requestId);
  }

  private item(record: AuditRecord): Record<string, unknown> {
    const expiresAt = Math.floor(Date.parse(record.time) / 1000) + this.retentionDays * 86_400;
    return { ...this.key(record), ...record, expiresAt };
  }
}

function keyOf(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}
