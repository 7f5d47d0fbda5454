import { DynamoHsmRbacStore } from '../aws/dynamo-hsm-rbac.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { Forbidden } from '../core/errors.ts';
import { onPoolPurge, poolAuditPartition, PoolHost } from '../hsm/pool-host.ts';
import { poolKeyScope } from '../hsm/pool-keys.ts';
import { type ManagedHsmPool, poolResourceId } from '../hsm/pools.ts';
import { HsmRbac } from '../hsm/rbac.ts';
import type { HsmDataAction } from '../hsm/roles.ts';
import { KEY_VAULT_API_VERSIONS } from '../http/api-version.ts';
import { replaceHost } from '../http/middleware/context.ts';
import { keyVaultHeaders } from '../http/middleware/respond.ts';
import type { OperationContext, OperationHandler, OperationInput, OperationResult, OperationSchemas } from '../http/operation.ts';
import { type PlaneSettings, routeHandler } from '../http/pipelines.ts';
import { hostOf, type RequestState } from '../http/request.ts';
import { type ManagedHsmDataOperationName, managedHsmDataRoutes, type Route } from '../http/routes.ts';
import { familyServices, pipelineServices, type SharedServices } from './services.ts';

/**
 * A managed HSM pool's own data plane (docs/adr/0022-pool-data-plane.md), what every pool handler
 * needs: the pool found from the host and its local RBAC (ADR 0021), which decides every request.
 * The pool's domains each have their own root on top of it (`hsmOperations`), as the vaults'
 * families do (docs/adr/0006-bundles-and-composition-roots.md): lib/runtime/hsm-keys.ts,
 * hsm-backups.ts, hsm-rbac.ts, hsm-security-domain.ts and hsm-settings.ts, so a key's function
 * carries no backup, security domain or RBAC management, and a role assignment's no keys domain.
 */
export interface PoolPlaneServices {
  pools: PoolHost;
  /** The pools' records: the host reads them, the security domain writes a pool's activation and statuses. */
  poolStore: DynamoPoolStore;
  rbac: HsmRbac;
  /** The pool's role assignments and definitions: RBAC management writes them, a backup carries them. */
  rbacStore: DynamoHsmRbacStore;
}

const poolPlaneServices = familyServices<PoolPlaneServices>((shared) => {
  const poolStore = new DynamoPoolStore(shared.dynamo, shared.config.objectsTable);
  const poolHost = new PoolHost(poolStore, shared.config.vaultDomain, shared.config.vaultEndpoints);
  onPoolPurge((name) => poolHost.forget(name));
  const rbacStore = new DynamoHsmRbacStore(shared.dynamo, shared.config.objectsTable);
  return { pools: poolHost, poolStore, rbac: new HsmRbac(rbacStore), rbacStore };
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
    const { pool, baseUrl } = await poolPlaneServices().pools.locate(hostOf(event));
    addressed.set(state, pool);
    replaceHost(event, new URL(baseUrl).host);
    state.tenantId = pool.tenantId;
    state.resourceId = poolResourceId(pool);
    state.auditPartition = poolAuditPartition(pool.name);
  },
  audience: 'managedHsm',
  authorizer: async (state, pathParameters, services) => {
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
    const scope = poolKeyScope(state.route, pathParameters.name);
    await poolPlaneServices().rbac.authorize(pool.name, state.principal!, state.route.permission as HsmDataAction, scope, state.requestId);
  },
  headers: keyVaultHeaders,
};

/** What a pool's handler receives: the plane's input, with its domain's services, and the live pool the request addresses. */
export type HsmOperationInput<Op extends ManagedHsmDataOperationName, TBody, TServices> = OperationInput<Op, TBody, TServices> & {
  pool: ManagedHsmPool;
};

/** A pool domain's `hsm…Operation('GetHsmRoleAssignment', schemas, run)`: its handlers on the Managed HSM pipeline. */
export type DefineHsmOperation<TServices> = <Op extends ManagedHsmDataOperationName, TBody = undefined>(
  operation: Op,
  schemas: OperationSchemas<TBody>,
  run: (input: HsmOperationInput<Op, TBody, TServices>) => Promise<OperationResult>,
) => OperationHandler;

/**
 * A pool operation's row, from the pools' own table: `routeFor` reads every table, so a pool's
 * function would carry the main stack's rows too (lib/http/routes.ts `localRoutes`).
 */
function poolRoute(operation: ManagedHsmDataOperationName): Route {
  const route = managedHsmDataRoutes.find((row) => row.operation === operation);
  if (!route) throw new Error(`no pool route for operation ${operation}`);
  return route;
}

/**
 * A pool domain's root: its services, built once per shared root on the shared services and the
 * plane's, and the definer of its handlers.
 */
export function hsmOperations<TServices>(build: (shared: SharedServices, plane: PoolPlaneServices) => TServices): DefineHsmOperation<TServices> {
  const domain = familyServices((shared) => build(shared, poolPlaneServices()));
  return <Op extends ManagedHsmDataOperationName, TBody>(
    operation: Op,
    schemas: OperationSchemas<TBody>,
    run: (input: HsmOperationInput<Op, TBody, TServices>) => Promise<OperationResult>,
  ) =>
    routeHandler(managedHsmPlane, poolRoute(operation), pipelineServices, domain, schemas, async (input: OperationContext<TBody, TServices>) => {
      // The locator found it for this request moments ago: this is the cached record, read by the canonical host.
      const { pool } = await poolPlaneServices().pools.locate(new URL(input.at.baseUrl).host);
      // The pipeline checked the path parameters against this route's schema (`operations` casts the same way).
      return run({ ...(input as OperationInput<Op, TBody, TServices>), pool });
    });
}

/** For the local gateway: whether a Host header names a live pool, whose routes then win over a vault's of the same path. */
export async function servesPool(host: string | undefined): Promise<boolean> {
  return poolPlaneServices()
    .pools.locate(host)
    .then(
      () => true,
      () => false,
    );
}
