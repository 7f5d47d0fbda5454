import { managementPlane, operations } from '../http/pipelines.ts';
import { DynamoHsmRbacStore } from '../aws/dynamo-hsm-rbac.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { DynamoPoolSettingsStore } from '../aws/dynamo-pool-settings.ts';
import { DynamoOperationStore } from '../aws/dynamo-operations.ts';
import { PoolManager } from '../hsm/pool-manager.ts';
import { grantInitialAdministrators } from '../hsm/rbac-management.ts';
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
};

const poolManagementServices = familyServices<PoolManagementServices>((shared) => {
  const hsmRbacStore = new DynamoHsmRbacStore(shared.dynamo, shared.config.objectsTable);
  const hsmSettingsStore = new DynamoPoolSettingsStore(shared.dynamo, shared.config.objectsTable);
  return {
    pools: new PoolManager(new DynamoPoolStore(shared.dynamo, shared.config.objectsTable), {
      vaultDomain: shared.config.vaultDomain,
      endpoints: shared.config.vaultEndpoints,
      tenantOf: (id) => shared.pipeline.subscriptions.tenantOf(id),
      // Each pool's own token, where the deployment makes one per pool (ADR 0022).
      provisionToken: async (pool) => poolTokens()?.provision(pool),
      // The initial administrators hold Administrator in the pool's local RBAC once its creation won the name (ADR 0021).
      created: (pool) => grantInitialAdministrators(hsmRbacStore, pool.name, pool.initialAdminObjectIds),
      purging: async (pool) => {
        await poolTokens()?.remove(pool);
        await hsmRbacStore.deletePool(pool.name);
        await hsmSettingsStore.deletePool(pool.name);
      },
    }),
    vaultOperations: new VaultOperations(new DynamoOperationStore(shared.dynamo, shared.config.objectsTable)),
  };
});

/** `poolManagementOperation('GetManagedHsm', schemas, run)`: a pool's management handler on the management-plane pipeline. */
export const poolManagementOperation = operations(managementPlane, pipelineServices, poolManagementServices);
