import { DynamoHsmRbacStore } from '../aws/dynamo-hsm-rbac.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { DynamoPoolBackupJobStore } from '../aws/dynamo-pool-backup-jobs.ts';
import { DynamoPoolSettingsStore } from '../aws/dynamo-pool-settings.ts';
import { s3PoolBackupStorage } from '../aws/s3-pool-backup-storage.ts';
import { BadParameter, Forbidden } from '../core/errors.ts';
import { folderBackupStorage } from '../hsm/folder-backup-storage.ts';
import type { PoolHsm } from '../hsm/hsm-keys.ts';
import { PoolBackups, type PoolKeysAccess } from '../hsm/pool-backup.ts';
import type { PoolBackupStorageFor } from '../hsm/pool-backup-storage.ts';
import { PoolSecurityDomain } from '../hsm/pool-security-domain.ts';
import { assertPoolActive, onPoolPurge, poolAuditPartition, PoolHost } from '../hsm/pool-host.ts';
import { noKmsInPools, PoolHsmKeys, poolKeyScope, poolKeysAddress } from '../hsm/pool-keys.ts';
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
import { KeyService } from '../keys/keys.ts';
import type { KeyMeta } from '../keys/layout.ts';
import { SealedContent } from '../objects/sealing.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { poolBackupConfig } from './pool-backup-config.ts';
import { tokenPoolHsm } from './pool-tokens.ts';
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
  /** The pool's security domain: its download, transfer key, upload and their statuses (ADR 0022). */
  securityDomain: PoolSecurityDomain;
  /** A pool's keys: the keys domain over the pool's HSM, at the pool's own partition (docs/adr/0024-keys-in-pools.md). */
  poolKeys(pool: ManagedHsmPool, baseUrl: string): { keys: KeyService; at: VaultAddress };
  /** The pool's full backup, full restore and selective key restore, and their jobs (docs/adr/0025-pool-full-backup.md). */
  backups: PoolBackups;
  /** What a backup or restore reaches of the pool's keys: its HSM and its keys' partition. */
  poolKeysAccess(pool: ManagedHsmPool, baseUrl: string): PoolKeysAccess;
}

/**
 * Where the pools' backups are written: a folder under the local stack's data directory, the pools'
 * backup bucket in AWS, or none
 * (a 400 that says so) where the deployment configures no backup storage.
 */
function backupStorage(region: string): PoolBackupStorageFor {
  const { backupDirectory, backupBucket, backupPrefix } = poolBackupConfig();
  if (backupDirectory) return (location) => folderBackupStorage(backupDirectory, location);
  if (backupBucket) return (location) => s3PoolBackupStorage({ bucket: backupBucket, region, prefix: backupPrefix ?? '' }, location);
  return () => {
    throw new BadParameter('This deployment has no storage for managed HSM backups configured.');
  };
}

/**
 * The pool's HSM, the one way every pool handler reaches it (docs/adr/0022-pool-data-plane.md): the
 * pool's own token, its PINs opened from the pool's record once per container, one adapter per pool.
 */
function poolHsmFor(pool: ManagedHsmPool): PoolHsm {
  return tokenPoolHsm(pool);
}

const hsmServices = familyServices<HsmServices>((shared) => {
  const poolStore = new DynamoPoolStore(shared.dynamo, shared.config.objectsTable);
  const poolHost = new PoolHost(poolStore, shared.config.vaultDomain, shared.config.vaultEndpoints);
  onPoolPurge((name) => poolHost.forget(name));
  const rbacStore = new DynamoHsmRbacStore(shared.dynamo, shared.config.objectsTable);
  const rbac = new HsmRbac(rbacStore);
  // One keys service per pool HSM adapter: a purged pool's new namesake has another token, so another adapter.
  const keyServices = new WeakMap<PoolHsm, KeyService>();
  const warn = (message: string, details: Record<string, unknown>) => shared.logger.warn(message, details);
  return {
    pools: poolHost,
    securityDomain: new PoolSecurityDomain(poolStore, poolHsmFor, (name) => poolHost.forget(name)),
    rbac,
    rbacManagement: new HsmRbacManagement(rbacStore, rbac),
    settings: new PoolSettings(new DynamoPoolSettingsStore(shared.dynamo, shared.config.objectsTable)),
    backups: new PoolBackups(
      shared.objects,
      new SealedContent<KeyMeta>(shared.sealer, 'keys'),
      new DynamoPoolBackupJobStore(shared.dynamo, shared.config.objectsTable),
      backupStorage(shared.config.region),
      rbacStore,
    ),
    poolKeysAccess: (pool, baseUrl) => ({ hsm: poolHsmFor(pool), at: poolKeysAddress(pool, baseUrl, shared.config.backupKeyId) }),
    poolKeys: (pool, baseUrl) => {
      const hsm = poolHsmFor(pool);
      let keys = keyServices.get(hsm);
      if (!keys) {
        keys = new KeyService(shared.objects, shared.sealer, shared.backups, noKmsInPools, warn, {}, shared.clock, new PoolHsmKeys(hsm));
        keyServices.set(hsm, keys);
      }
      return { keys, at: poolKeysAddress(pool, baseUrl, shared.config.backupKeyId) };
    },
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
    await hsmServices().rbac.authorize(pool.name, state.principal!, state.route.permission as HsmDataAction, scope, state.requestId);
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

/** What a pool's key handler receives beside a pool handler's input: the pool's keys and their address (`at`, the pool's partition). */
export type HsmKeyOperationInput<Op extends ManagedHsmDataOperationName, TBody> = HsmOperationInput<Op, TBody> & { keys: KeyService };

/** `hsmKeyOperation('HsmSign', schemas, run)`: a pool's key handler, refused until the pool is active. */
export function hsmKeyOperation<Op extends ManagedHsmDataOperationName, TBody = undefined>(
  operation: Op,
  schemas: OperationSchemas<TBody>,
  run: (input: HsmKeyOperationInput<Op, TBody>) => Promise<OperationResult>,
) {
  return hsmOperation<Op, TBody>(operation, schemas, async (input) => {
    assertPoolActive(input.pool);
    const { keys, at } = input.services.poolKeys(input.pool, input.at.baseUrl);
    return run({ ...input, at, keys });
  });
}

/** For the local gateway: whether a Host header names a live pool, whose routes then win over a vault's of the same path. */
export async function servesPool(host: string | undefined): Promise<boolean> {
  return hsmServices()
    .pools.locate(host)
    .then(
      () => true,
      () => false,
    );
}
