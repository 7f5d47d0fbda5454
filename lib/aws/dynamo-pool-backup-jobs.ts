import type { PoolBackupJob, PoolBackupJobStore } from '../hsm/pool-backup.ts';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import { deletePartition } from './dynamo/batch.ts';
import { isConditionFailure } from './dynamo/errors.ts';

const LOCK = 'LOCK';

/**
 * A managed HSM pool's backup and restore jobs in the objects table (docs/adr/0025-pool-full-backup.md):
 * `MHSMJOB#<pool>` / `LOCK`, the one item a job takes with a conditional put so one job runs at a
 * time, and `MHSMJOB#<pool>` / `JOB#<jobId>`, each job's record for the status polls.
 */
export class DynamoPoolBackupJobStore implements PoolBackupJobStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async lock(pool: string, jobId: string, now: number, expires: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: partition(pool), sk: LOCK, jobId, expires },
          ConditionExpression: 'attribute_not_exists(pk) OR expires < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async unlock(pool: string, jobId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: partition(pool), sk: LOCK },
          ConditionExpression: 'jobId = :job',
          ExpressionAttributeValues: { ':job': jobId },
        }),
      );
    } catch (error) {
      // Another job took an expired lock since: it is that job's to free.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async putJob(pool: string, job: PoolBackupJob): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: partition(pool), sk: `JOB#${job.jobId}`, job },
      }),
    );
  }

  async deletePool(pool: string): Promise<void> {
    await deletePartition(this.db, this.table, partition(pool));
  }

  async getJob(pool: string, jobId: string): Promise<PoolBackupJob | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: partition(pool), sk: `JOB#${jobId}` } }));
    return Item?.job as PoolBackupJob | undefined;
  }
}

/** A partition of its own (infra/permissions.ts's `jobs`): only the pool's backup and restore routes write it. */
function partition(pool: string): string {
  return `MHSMJOB#${pool.toLowerCase()}`;
}
