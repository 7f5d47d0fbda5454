import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, AuditSink } from '../audit/audit.ts';
import { auditKey } from './dynamo/layout.ts';

/** Audit records by vault and UTC day, so a security administrator reads a day with one Query. */
export class DynamoAuditSink implements AuditSink {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    const expiresAt = Math.floor(Date.parse(record.time) / 1000) + this.retentionDays * 86_400;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...auditKey(record.vault, record.time, record.requestId), ...record, expiresAt },
      }),
    );
  }
}
