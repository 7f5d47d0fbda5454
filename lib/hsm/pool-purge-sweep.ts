import { randomUUID } from 'node:crypto';
import type { AuditRecord, AuditSink } from '../audit/audit.ts';
import type { Clock, VaultClock } from '../core/clock.ts';
import { poolAuditPartition } from './pool-host.ts';
import type { PoolManager } from './pool-manager.ts';
import { poolObjectsPrefix, poolResourceId, type PoolStore } from './pools.ts';

/** The caller the audit records of the service's own work name, as the vaults' scheduler's do (docs/adr/0015). */
const SCHEDULER_CALLER = 'coffer-scheduler';
/** One run looks at this many due pools at most; the rest are the next run's (a run every minute). */
const POOLS_PER_RUN = 25;

export interface PoolSweepSummary {
  purged: string[];
  failed: string[];
}

/**
 * The purge of deleted managed HSM pools when their scheduled purge date comes (docs/adr/0020): the
 * due pools from the store's index, each read again and purged through the pool manager as a
 * caller's purge removes it (token, RBAC, settings, keys, record, endpoint), purge protection or not.
 * A pool's time is its clock's (`poolObjectsPrefix`, the name its keys' clock goes by: the local time
 * shift moves both), so the index is asked as far ahead as the furthest clock and every pool is judged
 * on its own. A failed purge is audited as a failure and left in the index: the next run tries again.
 */
export class PoolPurgeSweep {
  constructor(
    private readonly store: Pick<PoolStore, 'deletedPoolsDue' | 'getPool'>,
    private readonly pools: Pick<PoolManager, 'purgeAtRetentionEnd'>,
    private readonly audit: AuditSink,
    private readonly clock: { pool: VaultClock; real: Clock; lookahead: () => number },
  ) {}

  async run(): Promise<PoolSweepSummary> {
    const summary: PoolSweepSummary = { purged: [], failed: [] };
    const due = await this.store.deletedPoolsDue(this.clock.real() + this.clock.lookahead(), POOLS_PER_RUN);
    for (const name of due) {
      const pool = await this.store.getPool(name);
      if (!pool) continue;
      const startedAt = this.clock.real();
      try {
        if (!(await this.pools.purgeAtRetentionEnd(name, this.clock.pool(poolObjectsPrefix(name))))) continue;
        summary.purged.push(name);
        await this.auditPurge(pool, startedAt, undefined);
      } catch (error) {
        summary.failed.push(name);
        await this.auditPurge(pool, startedAt, error);
      }
    }
    return summary;
  }

  private async auditPurge(
    pool: { name: string; tenantId: string; subscriptionId: string; resourceGroup: string },
    startedAt: number,
    error: unknown,
  ) {
    const id = `${poolResourceId(pool)}/purge`;
    const record: AuditRecord = {
      time: new Date(startedAt * 1000).toISOString(),
      vault: poolAuditPartition(pool.name),
      tenantId: pool.tenantId,
      resourceId: poolResourceId(pool),
      requestId: randomUUID(),
      operationName: 'PurgeDeletedManagedHsm',
      category: 'AuditEvent',
      resultType: error === undefined ? 'Success' : 'Failure',
      resultSignature: error === undefined ? 'OK' : error instanceof Error ? error.name : 'Error',
      httpStatusCode: error === undefined ? 200 : 500,
      durationMs: Math.max(0, (this.clock.real() - startedAt) * 1000),
      identity: { upn: SCHEDULER_CALLER },
      requestUri: id,
      id,
      clientInfo: SCHEDULER_CALLER,
    };
    await this.audit.write(record, { strict: false });
  }
}
