import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from './api/dynamodb.ts';
import { AUDIT_BATCH_LIMIT, type AuditPack, type AuditRecord, type AuditStore } from '../audit/audit.ts';
import { type PackRead, queryPacks, type StoredPack } from '../audit/pack-query.ts';
import { decodePackRecords } from '../audit/packs.ts';
import type { AuditFilter, AuditPage, AuditReader } from '../audit/query.ts';
import { auditKey, auditPartitionKey, type ItemKey } from './dynamo/layout.ts';

/**
 * Audit records by vault and UTC day, so a security administrator reads a day with one Query, in
 * packs (lib/audit/packs.ts, docs/adr/0026-packed-audit-records.md): an item holds several records
 * of a partition, compressed under `records` (Binary), keyed by its newest record's time and the
 * pack's id, with the time of its `oldest` record, its record `count` and `expiresAt` (its newest
 * record's time plus the retention). A lone record is an item of its own, its fields as attributes,
 * keyed by its own time and request id, as every record was before packs: writing it again (the
 * strict audit's final record after its `Incomplete` one) replaces it, and the items of those
 * days are read as packs of one.
 */
export class DynamoAuditStore implements AuditStore, AuditReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
  ) {}

  async put(record: AuditRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: this.recordItem(record) }));
  }

  async putPacks(packs: readonly AuditPack[]): Promise<AuditPack[]> {
    if (packs.length === 0) return [];
    if (packs.length > AUDIT_BATCH_LIMIT) throw new Error(`at most ${AUDIT_BATCH_LIMIT} audit packs per batch`);
    const byKey = new Map(packs.map((pack) => [keyOf(packKey(pack)), pack]));
    const result = await this.db.send(
      new BatchWriteCommand({ RequestItems: { [this.table]: packs.map((pack) => ({ PutRequest: { Item: this.packItem(pack) } })) } }),
    );
    return (result.UnprocessedItems?.[this.table] ?? []).flatMap((request) => {
      const pack = byKey.get(keyOf(request.PutRequest?.Item as ItemKey));
      return pack ? [pack] : [];
    });
  }

  /** The merge of lib/audit/pack-query.ts over this table: one Query per read, the filters applied to the opened packs. */
  query(partition: string, filter: AuditFilter): Promise<AuditPage> {
    return queryPacks({ read: (read) => this.read(partition, read) }, filter);
  }

  private async read(partition: string, read: PackRead): Promise<{ packs: StoredPack[]; last?: string }> {
    const pk = auditPartitionKey(partition, read.day);
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        // The packs above the position that only the span brings in mostly hold nothing below it: not sent back.
        FilterExpression: '#oldest <= :notAfter OR #time <= :notAfter',
        ExpressionAttributeNames: { '#oldest': 'oldest', '#time': 'time' },
        ExpressionAttributeValues: { ':pk': pk, ':low': read.low, ':high': read.high, ':notAfter': read.notAfter },
        ScanIndexForward: false,
        Limit: read.limit,
        ...(read.after === undefined ? {} : { ExclusiveStartKey: { pk, sk: read.after } }),
      }),
    );
    return { packs: Items.map(packOf), ...(LastEvaluatedKey ? { last: String(LastEvaluatedKey.sk) } : {}) };
  }

  private expiresAt(time: string): number {
    return Math.floor(Date.parse(time) / 1000) + this.retentionDays * 86_400;
  }

  private recordItem(record: AuditRecord): Record<string, unknown> {
    return { ...auditKey(record.vault, record.time, record.requestId), ...record, expiresAt: this.expiresAt(record.time) };
  }

  private packItem(pack: AuditPack): Record<string, unknown> {
    if (!pack.compressed) return this.recordItem(pack.records[0]!);
    return { ...packKey(pack), records: pack.compressed, oldest: pack.oldest, count: pack.records.length, expiresAt: this.expiresAt(pack.newest) };
  }
}

function packKey(pack: AuditPack): ItemKey {
  return auditKey(pack.vault, pack.newest, pack.id);
}

/** An item as a pack: its compressed records, or the lone record it is without the table's own attributes. */
function packOf(item: Record<string, unknown>): StoredPack {
  const sk = String(item.sk);
  if (item.records instanceof Uint8Array) return { sk, records: decodePackRecords(item.records) };
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...record } = item;
  return { sk, records: [record as AuditRecord] };
}

function keyOf(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}
