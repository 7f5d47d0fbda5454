import { managementPlane, operations } from '../http/pipelines.ts';
import { DynamoHsmRbacStore } from '../aws/dynamo-hsm-rbac.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { DynamoPoolBackupJobStore } from '../aws/dynamo-pool-backup-jobs.ts';
import { DynamoPoolSettingsStore } from '../aws/dynamo-pool-settings.ts';
import { DynamoOperationStore } from '../aws/dynamo-operations.ts';
import { announcePoolPurge } from '../hsm/pool-host.ts';
import { PoolManager } from '../hsm/pool-manager.ts';
import { PoolPurgeSweep, type PoolSweepSummary } from '../hsm/pool-purge-sweep.ts';
import { grantInitialAdministrators } from '../hsm/rbac-management.ts';
import { nowSeconds } from '../core/clock.ts';
import { FileClockOffsets, lookaheadOf } from './clock-offsets.ts';
import { VaultOperations } from '../vaults/operations.ts';
import { poolTokens } from './pool-tokens.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The composition root of the managed HSM pools' life cycle on the management plane (ADR 0020). Apart
 * from the vaults' root (lib/runtime/management.ts) because a pool's creation makes its token and its
 * purge wipes it (ADR 0022): that reaches the PKCS#11 adapter and its native addon, which only the
 * pools' stack ships (ADR 0023); the main stack's management functions carry neither.
 */
export type PoolManagementServices = {
  pools: PoolManager;
  /** A pool's purge is long-running like a vault's: its operation record answers GetVaultOperationResult. */
  vaultOperations: VaultOperations;
  /** The service's own purge of deleted pools whose retention ended (ADR 0020), on the pools' stack's schedule. */
  sweep: PoolPurgeSweep;
  poolStore: DynamoPoolStore;
};

const poolManagementServices = familyServices<PoolManagementServices>((shared) => {
  const hsmRbacStore = new DynamoHsmRbacStore(shared.dynamo, shared.config.objectsTable);
  const hsmSettingsStore = new DynamoPoolSettingsStore(shared.dynamo, shared.config.objectsTable);
  const backupJobStore = new DynamoPoolBackupJobStore(shared.dynamo, shared.config.objectsTable);
  const poolStore = new DynamoPoolStore(shared.dynamo, shared.config.objectsTable);
  const offsetsFile = shared.config.clockOffsetsFile;
  const pools = new PoolManager(poolStore, {
    vaultDomain: shared.config.vaultDomain,
    endpoints: shared.config.vaultEndpoints,
    tenantOf: (id) => shared.pipeline.subscriptions.tenantOf(id),
    // Each pool's own token, where the deployment makes one per pool (ADR 0022).
    provisionToken: async (pool) => poolTokens()?.provision(pool),
    // The initial administrators hold Administrator in the pool's local RBAC once its creation won the name (ADR 0021).
    created: (pool) => grantInitialAdministrators(hsmRbacStore, pool.name, pool.initialAdminObjectIds),
    purging: async (pool) => {
      announcePoolPurge(pool.name);
      await poolTokens()?.remove(pool);
      await hsmRbacStore.deletePool(pool.name);
      await hsmSettingsStore.deletePool(pool.name);
      await backupJobStore.deletePool(pool.name);
    },
  });
  return {
    pools,
    poolStore,
    vaultOperations: new VaultOperations(new DynamoOperationStore(shared.dynamo, shared.config.objectsTable)),
    sweep: new PoolPurgeSweep(poolStore, pools, shared.audit, {
      pool: shared.clock,
      real: nowSeconds,
      lookahead: lookaheadOf(offsetsFile ? new FileClockOffsets(offsetsFile) : undefined),
    }),
  };
});

/** One run of the pools' sweep (the pools' stack's rate rule, or the local scheduler's tick): the deleted pools whose retention ended, purged. */
export function purgeDeletedPoolsDue(): Promise<PoolSweepSummary> {
  return poolManagementServices().sweep.run();
}

/** `poolManagementOperation('GetManagedHsm', schemas, run)`: a pool's management handler on the management-plane pipeline. */
export const poolManagementOperation = operations(managementPlane, pipelineServices, poolManagementServices);

/** Whether a pool of the name exists, deleted or not: the local time shift moves a deleted pool's clock too, towards its purge. */
export async function poolExists(name: string): Promise<boolean> {
  return (await poolManagementServices().poolStore.getPool(name.toLowerCase())) !== undefined;
}
