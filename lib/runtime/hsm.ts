import { DynamoHsmRbacStore } from '../aws/dynamo-hsm-rbac.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { DynamoPoolSettingsStore } from '../aws/dynamo-pool-settings.ts';
import { Forbidden } from '../core/errors.ts';
import { poolAuditPartition, PoolHost } from '../hsm/pool-host.ts';
import { type ManagedHsmPool, poolResourceId } from '../hsm/pools.ts';
import { HsmRbac } from '../hsm/rbac.ts';
import { HsmRbacManagement } from '../hsm/rbac-management.ts';
import type { HsmDataAction } from '../hsm/roles.ts';
import { PoolSettings } from '../hsm/settings.ts';
import { KEY_VAULT_API_VERSIONS } from '../http/api-version.ts';
import { replaceHost } from '../http/middleware/context.ts';
import { keyVaultHeaders } from '../http/middleware/respond.ts';
import type { OperationInput, OperationResult, OperationSchemas } from '../http/operation.ts';
import { operations, type PlaneSettings } from '../http/pipelines.ts';
import { hostOf, type RequestState } from '../http/request.ts';
import type { ManagedHsmDataOperationName } from '../http/routes.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The composition root of a managed HSM pool's own data plane (docs/adr/0022-pool-data-plane.md):
 * the pool found from the host, its local RBAC (ADR 0021) and its settings. The pool's
 * handlers (functions/hsm/) get the pool they address beside the usual input.
 */
export interface HsmServices {
  pools: PoolHost;
  rbac: HsmRbac;
  rbacManagement: HsmRbacManagement;
  settings: PoolSettings;
}

const hsmServices = familyServices<HsmServices>((shared) => {
  const rbacStore = new DynamoHsmRbacStore(shared.dynamo, shared.config.objectsTable);
  const rbac = new HsmRbac(rbacStore);
  return {
    pools: new PoolHost(new DynamoPoolStore(shared.dynamo, shared.config.objectsTable), shared.config.vaultDomain, shared.config.vaultEndpoints),
    rbac,
    rbacManagement: new HsmRbacManagement(rbacStore, rbac),
    settings: new PoolSettings(new DynamoPoolSettingsStore(shared.dynamo, shared.config.objectsTable)),
  };
});

/** The pool each request addresses, found by the locator and read by the authorizer of the same request. */
const addressed = new WeakMap<RequestState, ManagedHsmPool>();

/**
 * Managed HSM's plane: Key Vault's api-versions, the pool from the Host header (404 for no live
 * pool), tokens for the Managed HSM audience, and the pool's local RBAC, deny by default. Every
 * record of a request to the pool goes to the pool's audit partition, refused ones too.
 */
const managedHsmPlane: PlaneSettings = {
  plane: 'managedHsm',
  apiVersions: () => KEY_VAULT_API_VERSIONS,
  locate: async (event, _services, state) => {
    const { pool, baseUrl } = await hsmServices().pools.locate(hostOf(event));
    addressed.set(state, pool);
    replaceHost(event, new URL(baseUrl).host);
    state.tenantId = pool.tenantId;
    state.resourceId = poolResourceId(pool);
    state.auditPartition = poolAuditPartition(pool.name);
  },
  audience: 'managedHsm',
  authorizer: async (state, _pathParameters, services) => {
    const pool = addressed.get(state)!;
    // Coffer has no private endpoints: a pool closed to public networks answers no request, as a vault does.
    if (pool.publicNetworkAccess === 'Disabled') {
      throw new Forbidden(
        `Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nManaged HSM: ${pool.name};location=${services.region}`,
        'ForbiddenByConnection',
      );
    }
    // `path` routes are decided by the domain, at the scope the path names, once the path's syntax is checked (ADR 0021).
    if (state.route.scope === 'path') return;
    await hsmServices().rbac.authorize(pool.name, state.principal!, state.route.permission as HsmDataAction, '/', state.requestId);
  },
  headers: keyVaultHeaders,
};

const defineOperation = operations(managedHsmPlane, pipelineServices, hsmServices);

/** What a pool's handler receives: the plane's input and the live pool the request addresses. */
export type HsmOperationInput<Op extends ManagedHsmDataOperationName, TBody> = OperationInput<Op, TBody, HsmServices> & { pool: ManagedHsmPool };

/** `hsmOperation('GetHsmRoleAssignment', schemas, run)`: a pool's handler on the Managed HSM pipeline. */
export function hsmOperation<Op extends ManagedHsmDataOperationName, TBody = undefined>(
  operation: Op,
  schemas: OperationSchemas<TBody>,
  run: (input: HsmOperationInput<Op, TBody>) => Promise<OperationResult>,
) {
  return defineOperation<Op, TBody>(operation, schemas, async (input) => {
    // The locator found it for this request moments ago: this is the cached record, read by the canonical host.
    const { pool } = await input.services.pools.locate(new URL(input.at.baseUrl).host);
    return run({ ...input, pool });
  });
}
