import type { PoolSettingsStore } from '../hsm/settings.ts';
import { type DynamoDBDocumentClient, PutCommand } from './api/dynamodb.ts';
import { deletePartition } from './dynamo/batch.ts';
import { poolSettingsPartition } from './dynamo/layout.ts';
import { queryPartition } from './dynamo/paging.ts';

/**
 * A managed HSM pool's settings in the objects table: one item per setting set, `MHSMSET#<pool>` /
 * `<setting name>`, so a PATCH is one put and a read one Query of a partition of one item.
 */
export class DynamoPoolSettingsStore implements PoolSettingsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async values(pool: string): Promise<Record<string, string>> {
    const items = await queryPartition(this.db, this.table, poolSettingsPartition(pool));
    return Object.fromEntries(items.map((item) => [String(item.sk), String(item.value)]));
  }

  async put(pool: string, name: string, value: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: poolSettingsPartition(pool), sk: name, value } }));
  }

  async deletePool(pool: string): Promise<void> {
    await deletePartition(this.db, this.table, poolSettingsPartition(pool));
  }
}
