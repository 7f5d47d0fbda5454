import { resourceGroupScope } from '../access/scopes.ts';
import type { SoftDeletableResource } from '../vaults/arm-resource.ts';

/**
 * A managed HSM pool (`Microsoft.KeyVault/managedHSMs`, docs/adr/0020-managed-hsm-pools.md): a
 * container of HSM-backed keys with its own host and, from the next slice on, its own HSM partition
 * and local RBAC. Its life cycle is the management plane's (lib/hsm/pool-manager.ts), as a vault's.
 */
export interface ManagedHsmPool extends SoftDeletableResource {
  tenantId: string;
  /** The pool's data-plane URL the management API answers as `hsmUri`: `https://<name>.managedhsm.<vault domain>/`, or a claimed local endpoint. */
  hsmUri: string;
  sku: ManagedHsmSkuName;
  /** The pool's first administrators: they hold its local Administrator role once it is served. */
  initialAdminObjectIds: string[];
  publicNetworkAccess: 'Enabled' | 'Disabled';
  tags: Record<string, string>;
  /** A new pool is provisioned but not active until its security domain is downloaded, or uploaded (docs/adr/0022). */
  activation: { status: 'NotActivated' | 'Active'; message: string };
  /** The security domain's state: its domain key's handle once there is one, the transfer key, and the last download's and upload's outcome. */
  securityDomain?: PoolSecurityDomainState;
  /** The pool's own token, where the deployment makes one per pool (SoftHSM2 locally): its label and its PINs sealed with the envelope cipher. */
  token?: PoolTokenRecord;
  created: number;
}

/** A security domain operation's outcome as `GET /securitydomain/{download,upload}/pending` answers it. */
export interface SecurityDomainOperationStatus {
  status: 'Success' | 'InProgress' | 'Failed';
  statusDetails: string;
}

export interface PoolSecurityDomainState {
  /** The domain key's handle in the pool's HSM (the source pool's, after an upload). */
  domainKey?: string;
  /** The RSA key in the pool's HSM that an upload's shares are encrypted to. */
  transferKey?: string;
  download?: SecurityDomainOperationStatus;
  upload?: SecurityDomainOperationStatus;
}

export interface PoolTokenRecord {
  label: string;
  /** The token's user and SO PINs as one envelope blob (base64url), bound to the pool; never logged, never answered. */
  sealedSecrets: string;
}

/** The spec's SKUs (managedHsm.json `ManagedHsmSku`), each in its family. */
export const MANAGED_HSM_SKUS = {
  Standard_B1: 'B',
  Custom_B32: 'B',
  Custom_B6: 'B',
  Custom_C42: 'C',
  Custom_C10: 'C',
} as const;

export type ManagedHsmSkuName = keyof typeof MANAGED_HSM_SKUS;

/** The subdomain of the vault domain pool hosts live under, as Azure's `managedhsm.azure.net` beside `vault.azure.net`. */
export const MANAGED_HSM_SUBDOMAIN = 'managedhsm';

export const ACTIVATED_MESSAGE = 'Your HSM has been activated and can be used for cryptographic operations.';

export const NOT_ACTIVATED_MESSAGE =
  'Your HSM has been provisioned, but cannot be used for cryptographic operations until it is activated. To activate the HSM, download the security domain.';

/** The pool's ARM resource id: its management permissions, audit records and (next) its local RBAC scope name it. */
export function poolResourceId(pool: Pick<ManagedHsmPool, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `${resourceGroupScope(pool.subscriptionId, pool.resourceGroup)}/providers/Microsoft.KeyVault/managedHSMs/${pool.name}`;
}

/**
 * The partition prefix of the pool's objects (its keys: docs/adr/0024), laid out as a vault's objects
 * are under its name: `MHSM#<pool>#keys`, `#deletedkeys`, `#keys#<name>`. No vault name has a `#`, and
 * the pool's own record (`MHSM#<pool>` / `MHSM`) is another item.
 */
export function poolObjectsPrefix(poolName: string): string {
  return `MHSM#${poolName.toLowerCase()}`;
}

/** The port the pool manager uses; lib/aws/dynamo-managed-hsm-pools.ts implements it. */
export interface PoolStore {
  /** The pool, deleted or not. */
  getPool(name: string): Promise<ManagedHsmPool | undefined>;
  /** Creates the pool; false if the name is taken (by a live or a soft-deleted pool). */
  createPool(pool: ManagedHsmPool): Promise<boolean>;
  /** Writes the pool if its stored revision is still `expectedRevision`; false if another change came first. */
  updatePool(pool: ManagedHsmPool, expectedRevision: number): Promise<boolean>;
  /** Every pool of the subscription, deleted or not. */
  poolsIn(subscriptionId: string): Promise<ManagedHsmPool[]>;
  /** Claims a free local endpoint for the pool; false if a vault or another pool holds it. */
  claimEndpoint(hostAndPort: string, poolName: string): Promise<boolean>;
  /** Frees the pool's claim on the endpoint. */
  releaseEndpoint(hostAndPort: string, poolName: string): Promise<void>;
  /** The pool a claimed local endpoint serves, if a pool holds it (the next slice's data plane resolves its Host through it). */
  poolAtEndpoint(hostAndPort: string): Promise<string | undefined>;
  /**
   * Removes every object record under the pool's prefix (its keys, deleted keys, versions), then its
   * record and its subscription index item: the record last, so a removal that fails half-way is done
   * again, whole, by purging the still-deleted pool again.
   */
  removePool(pool: ManagedHsmPool): Promise<void>;
  /**
   * The names of deleted pools whose scheduled purge date is at or before `until` (Unix seconds), at
   * most `limit`, earliest first: found through an index, never a scan (docs/adr/0020).
   */
  deletedPoolsDue(until: number, limit: number): Promise<string[]>;
  /** Whether the resource group exists (ARM clients create it before the pools in it). */
  resourceGroupExists(subscriptionId: string, name: string): Promise<boolean>;
}
