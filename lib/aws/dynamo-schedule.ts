import { type DueItem, type DueKey, type DueStore, fingerprintOf, type StoredDueItem, shardOf } from '../events/schedule.ts';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from './api/dynamodb.ts';
import { isConditionFailure } from './dynamo/errors.ts';
import { dueItemKey, schedulePartition } from './dynamo/layout.ts';
import { dueIndex } from './tables.ts';

const SCHEDULE_SUFFIX = schedulePartition('');

function bucketOf(shard: number): string {
  return `due#${shard}`;
}

/**
 * The due store on the objects table: one item per slot in `<vault>#schedule`; an item that is due
 * carries `dueBucket` (its shard) and `dueAt`, so it appears in the sparse `dueIndex` and the
 * scheduler finds it with one Query per shard. Done work drops `dueBucket` and leaves the index. Every
 * change after the first write is conditional on the slot still holding the same work (`fingerprint`).
 */
export class DynamoDueStore implements DueStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async replace(vault: string, prefix: string, items: DueItem[]): Promise<void> {
    const existing = await this.slotsUnder(vault, prefix);
    const wanted = new Set(items.map((item) => item.slot));
    for (const [slot] of existing) {
      if (!wanted.has(slot)) await this.db.send(new DeleteCommand({ TableName: this.table, Key: dueItemKey(vault, slot) }));
    }
    for (const item of items) {
      const fingerprint = fingerprintOf(item);
      if (existing.get(item.slot) === fingerprint) continue;
      await this.ignoringLostRace(
        this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...dueItemKey(vault, item.slot),
              vault,
              dueBucket: bucketOf(shardOf(vault, item.slot)),
              dueAt: item.dueAt,
              work: item.work,
              fingerprint,
              done: false,
            },
            // A writer that got there first with the same work wins: done work stays done.
            ConditionExpression: 'attribute_not_exists(pk) OR fingerprint <> :fingerprint',
            ExpressionAttributeValues: { ':fingerprint': fingerprint },
          }),
        ),
      );
    }
  }

  async due(shard: number, until: number, limit: number, after?: DueKey): Promise<DueKey[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: dueIndex.name,
        KeyConditionExpression: '#bucket = :bucket AND #at <= :until',
        ExpressionAttributeNames: { '#bucket': dueIndex.partitionKey, '#at': dueIndex.sortKey },
        ExpressionAttributeValues: { ':bucket': bucketOf(shard), ':until': until },
        Limit: limit,
        // An index page starts after an item named by the index's keys and the table's.
        ...(after ? { ExclusiveStartKey: { ...dueItemKey(after.vault, after.slot), dueBucket: bucketOf(shard), dueAt: after.dueAt } } : {}),
      }),
    );
    return (Items ?? []).flatMap((item) => {
      const pk = String(item.pk);
      if (!pk.endsWith(SCHEDULE_SUFFIX)) return [];
      return [{ vault: pk.slice(0, -SCHEDULE_SUFFIX.length), slot: String(item.sk), dueAt: Number(item.dueAt) }];
    });
  }

  async get(vault: string, slot: string): Promise<StoredDueItem | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: dueItemKey(vault, slot), ConsistentRead: true }));
    if (!Item) return undefined;
    return {
      vault: typeof Item.vault === 'string' ? Item.vault : vault,
      slot,
      dueAt: Number(Item.dueAt),
      work: Item.work as StoredDueItem['work'],
      fingerprint: String(Item.fingerprint),
      done: Item.done === true,
      ...(typeof Item.leaseUntil === 'number' ? { leaseUntil: Item.leaseUntil } : {}),
    };
  }

  claim(item: StoredDueItem, now: number, leaseUntil: number): Promise<boolean> {
    return this.update(item, 'SET leaseUntil = :lease', {
      condition: 'attribute_exists(dueBucket) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
      values: { ':lease': leaseUntil, ':now': now },
    });
  }

  complete(item: StoredDueItem): Promise<boolean> {
    return this.update(item, 'SET done = :done REMOVE dueBucket, leaseUntil', { values: { ':done': true } });
  }

  defer(item: StoredDueItem, dueAt: number): Promise<boolean> {
    return this.update(item, 'SET dueAt = :dueAt REMOVE leaseUntil', { values: { ':dueAt': dueAt } });
  }

  /** An update on the slot while it holds the item's work (and `condition`); false when it does not. */
  private async update(
    item: StoredDueItem,
    expression: string,
    { condition, values }: { condition?: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: dueItemKey(item.vault, item.slot),
          UpdateExpression: expression,
          ConditionExpression: `fingerprint = :fingerprint${condition ? ` AND ${condition}` : ''}`,
          ExpressionAttributeValues: { ...values, ':fingerprint': item.fingerprint },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The slots under `prefix` and the work each holds. */
  private async slotsUnder(vault: string, prefix: string): Promise<Map<string, string>> {
    const slots = new Map<string, string>();
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': schedulePartition(vault), ':prefix': prefix },
          ProjectionExpression: 'sk, fingerprint',
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of result.Items ?? []) slots.set(String(item.sk), String(item.fingerprint));
      start = result.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (start);
    return slots;
  }

  private async ignoringLostRace(write: Promise<unknown>): Promise<void> {
    try {
      await write;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
