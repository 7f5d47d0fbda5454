import { type ManagedHsmPool, type PoolStore, poolObjectsPrefix } from '../hsm/pools.ts';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from './api/dynamodb.ts';
import { deleteItems } from './dynamo/batch.ts';
import { claimEndpoint, createWithIndex, endpointHolder, putIfRevision, recordsByIndex, releaseEndpoint } from './dynamo/control-records.ts';
import { type ItemKey, resourceGroupKey } from './dynamo/layout.ts';
import { removeVaultContents } from './dynamo/vault-contents.ts';
import { dueIndex } from './tables.ts';

/**
 * Managed HSM pool records in the objects table, laid out as vaults' are (lib/aws/tables.ts): the
 * record `MHSM#<name>` / `MHSM` (names global among pools, live or soft-deleted), its subscription's
 * index item `MHSMSUB#<subscription>` / `<name>` written with it in one transaction, and the claim of
 * a local endpoint, `HOST#<host:port>` naming the pool as `managedHsm` (a vault's claim names `vault`).
 */
function poolKey(name: string): ItemKey {
  return { pk: `MHSM#${name.toLowerCase()}`, sk: 'MHSM' };
}

/**
 * The due index's bucket of deleted pools (lib/aws/tables.ts `dueIndex`): a deleted pool's record
 * carries it and its scheduled purge date as `dueAt`, so the pools' sweep finds the pools due with one
 * Query. The vaults' scheduler asks only its own buckets (`due#<n>`), never this one.
 */
const DELETED_POOLS_BUCKET = 'mhsm#purge';

/** The record's item: while the pool is deleted it is in the due index, recovered or purged it is not. */
function poolItem(pool: ManagedHsmPool): Record<string, unknown> {
  const due = pool.deleted ? { dueBucket: DELETED_POOLS_BUCKET, dueAt: Math.floor(Date.parse(pool.deleted.scheduledPurgeDate) / 1000) } : {};
  return { ...poolKey(pool.name), ...pool, ...due };
}

function subscriptionPoolsPartition(subscriptionId: string): string {
  return `MHSMSUB#${subscriptionId.toLowerCase()}`;
}

export class DynamoPoolStore implements PoolStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getPool(name: string): Promise<ManagedHsmPool | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: poolKey(name), ConsistentRead: true }));
    return Item ? toPool(Item) : undefined;
  }

  createPool(pool: ManagedHsmPool): Promise<boolean> {
    return createWithIndex(this.db, this.table, poolItem(pool), this.indexItem(pool));
  }

  updatePool(pool: ManagedHsmPool, expectedRevision: number): Promise<boolean> {
    return putIfRevision(this.db, this.table, poolItem(pool), expectedRevision);
  }

  async poolsIn(subscriptionId: string): Promise<ManagedHsmPool[]> {
    return (await recordsByIndex(this.db, this.table, subscriptionPoolsPartition(subscriptionId), poolKey)).map(toPool);
  }

  claimEndpoint(hostAndPort: string, poolName: string): Promise<boolean> {
    return claimEndpoint(this.db, this.table, hostAndPort, 'managedHsm', poolName);
  }

  releaseEndpoint(hostAndPort: string, poolName: string): Promise<void> {
    return releaseEndpoint(this.db, this.table, hostAndPort, 'managedHsm', poolName);
  }

  poolAtEndpoint(hostAndPort: string): Promise<string | undefined> {
    return endpointHolder(this.db, this.table, hostAndPort, 'managedHsm');
  }

  async removePool(pool: ManagedHsmPool): Promise<void> {
    // The pool's keys are laid out as a vault's objects under the pool's prefix: removed as a purged vault's are.
    // Their HSM objects need no removal of their own: the pool's token went before (its purging hook).
    await removeVaultContents(this.db, this.table, poolObjectsPrefix(pool.name));
    await deleteItems(this.db, this.table, [poolKey(pool.name), { pk: subscriptionPoolsPartition(pool.subscriptionId), sk: pool.name }]);
  }

  async deletedPoolsDue(until: number, limit: number): Promise<string[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: dueIndex.name,
        KeyConditionExpression: '#bucket = :bucket AND #at <= :until',
        ExpressionAttributeNames: { '#bucket': dueIndex.partitionKey, '#at': dueIndex.sortKey },
        ExpressionAttributeValues: { ':bucket': DELETED_POOLS_BUCKET, ':until': until },
        Limit: limit,
      }),
    );
    // The index projects keys only: the record's key names the pool.
    return Items.map((item) => String(item.pk).slice('MHSM#'.length));
  }

  async resourceGroupExists(subscriptionId: string, name: string): Promise<boolean> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: resourceGroupKey(subscriptionId, name), ConsistentRead: true }));
    return Item !== undefined;
  }

  private indexItem(pool: ManagedHsmPool): Record<string, unknown> {
    return { pk: subscriptionPoolsPartition(pool.subscriptionId), sk: pool.name, resourceGroup: pool.resourceGroup };
  }
}

function toPool(item: Record<string, unknown>): ManagedHsmPool {
  const { pk: _pk, sk: _sk, dueBucket: _bucket, dueAt: _at, ...pool } = item;
  return pool as unknown as ManagedHsmPool;
}
