import { type Clock, nowSeconds } from '../core/clock.ts';
import { VaultError } from '../core/errors.ts';
import {
  assertPurgeAllowed,
  badRequest,
  checkTenant,
  LocalEndpoints,
  normalizeLocation,
  publicNetworkAccess,
  SoftDeletableResources,
  sameResourceGroup,
  softDeleteSettings,
} from '../vaults/arm-resource.ts';
import { VAULT_NAME } from '../vaults/vault.ts';
import type { PoolBody } from './pool-schemas.ts';
import {
  MANAGED_HSM_SKUS,
  MANAGED_HSM_SUBDOMAIN,
  type ManagedHsmPool,
  type ManagedHsmSkuName,
  NOT_ACTIVATED_MESSAGE,
  type PoolStore,
  type PoolTokenRecord,
} from './pools.ts';

export interface PoolManagerSettings {
  vaultDomain: string;
  /** The local endpoints vaults claim theirs from; a pool claims one of the same (docs/adr/0020). Empty where host names resolve. */
  endpoints: readonly string[];
  /** The tenant a subscription belongs to. */
  tenantOf(subscriptionId: string): string | undefined;
  /** Before a purge removes the pool's record: what the pool holds elsewhere goes first (its token, role assignments, settings). */
  purging?(pool: ManagedHsmPool): Promise<void>;
  /**
   * Once this creation won the pool's name, before `created`: the pool's own token, where the
   * deployment makes one per pool (docs/adr/0022), written into the record. Undone as `created` is.
   */
  provisionToken?(pool: ManagedHsmPool): Promise<PoolTokenRecord | undefined>;
  /**
   * Once this creation won the pool's name, never before (a losing concurrent creation must not grant
   * its administrators on the winner's pool): the initial administrators' grants. If it fails, the
   * creation is undone (through `purging`, then the record), so the caller's retry creates it again.
   */
  created?(pool: ManagedHsmPool): Promise<void>;
}

const WHAT = 'managed HSM pool';
/** Azure's object ids are GUIDs: an initial administrator is one. */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The managed HSM pool life cycle behind the management plane (docs/adr/0020): create, recover,
 * update, soft delete (always: a pool's is not optional), purge and name checks, with the rules vaults
 * share (lib/vaults/arm-resource.ts). Pool names are global among pools, live and soft-deleted; a pool
 * and a vault may share a name, as their hosts live under different subdomains.
 */
export class PoolManager extends SoftDeletableResources<ManagedHsmPool> {
  private readonly endpoints: LocalEndpoints;

  constructor(
    private readonly store: PoolStore,
    private readonly settings: PoolManagerSettings,
    private readonly clock: Clock = nowSeconds,
  ) {
    super(
      {
        read: (name) => store.getPool(name),
        inSubscription: (subscriptionId) => store.poolsIn(subscriptionId),
        resourceGroupExists: (subscriptionId, group) => store.resourceGroupExists(subscriptionId, group),
      },
      { write: (next, expected) => store.updatePool(next, expected), reread: (name) => store.getPool(name), now: () => clock() },
      { what: WHAT, type: 'Microsoft.KeyVault/managedHSMs' },
    );
    this.endpoints = new LocalEndpoints(settings.endpoints);
  }

  async checkName(name: string): Promise<{ nameAvailable: boolean; reason?: string; message?: string }> {
    if (!VAULT_NAME.test(name)) return { nameAvailable: false, reason: 'AccountNameInvalid', message: invalidNameMessage(name) };
    if (await this.store.getPool(name.toLowerCase())) return { nameAvailable: false, reason: 'AlreadyExists', message: alreadyExistsMessage(name) };
    return { nameAvailable: true };
  }

  /** PUT: creates the pool, recovers a deleted one (`createMode: recover`), or replaces the given settings of an existing one. */
  async createOrUpdate(subscriptionId: string, resourceGroup: string, name: string, body: PoolBody): Promise<ManagedHsmPool> {
    if (!VAULT_NAME.test(name)) throw badRequest(invalidNameMessage(name));
    const props = body.properties ?? {};
    const createMode = this.createMode(props.createMode);
    const existing = await this.store.getPool(name.toLowerCase());
    if (existing && existing.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) throw nameTaken(name);
    if (createMode === 'recover') return this.recover(existing, subscriptionId, resourceGroup, name);
    if (existing?.deleted)
      throw new VaultError(
        409,
        'ConflictError',
        `A soft-deleted managed HSM pool named '${name}' exists. It can only be recovered (createMode 'recover') or purged.`,
      );
    if (existing && !sameResourceGroup(existing, subscriptionId, resourceGroup)) throw nameTaken(name);
    checkTenant((id) => this.settings.tenantOf(id), subscriptionId, props.tenantId, true);
    if (existing) return this.change(existing, (pool) => applyProperties(pool, body, false));
    return this.create(subscriptionId, resourceGroup, name, body);
  }

  /** PATCH: only the given fields change. */
  async update(subscriptionId: string, resourceGroup: string, name: string, body: PoolBody): Promise<ManagedHsmPool> {
    const props = body.properties ?? {};
    if (props.createMode !== undefined) throw badRequest("The property 'createMode' is only accepted by a PUT.");
    checkTenant((id) => this.settings.tenantOf(id), subscriptionId, props.tenantId, false);
    const pool = await this.get(subscriptionId, resourceGroup, name);
    return this.change(pool, (current) => applyProperties(current, body, false));
  }

  /** Removes a deleted pool for good: what it holds, its record, its endpoint. */
  async purge(subscriptionId: string, location: string, name: string): Promise<void> {
    const pool = await this.getDeleted(subscriptionId, location, name);
    assertPurgeAllowed(pool, this.clock(), 'PurgeDeletedManagedHsm', WHAT);
    await this.remove(pool);
  }

  /**
   * The service's own purge at the end of retention (docs/adr/0020): the deleted pool goes as a
   * caller's purge removes it, purge protection or not, since protection forbids only a purge before
   * the scheduled purge date (as for vaults: docs/adr/0015). `now` is the pool's clock; the pool is
   * read again, so one recovered, purged or not yet due meanwhile is left alone. True if it purged.
   */
  async purgeAtRetentionEnd(name: string, now: number): Promise<boolean> {
    const pool = await this.store.getPool(name);
    if (!pool?.deleted || now * 1000 < Date.parse(pool.deleted.scheduledPurgeDate)) return false;
    await this.remove(pool);
    return true;
  }

  /** What it holds elsewhere (the `purging` hook), its records, its endpoint: the record before the endpoint, the hook first, so a removal that fails half-way is done again by purging the still-deleted pool. */
  private async remove(pool: ManagedHsmPool): Promise<void> {
    await this.settings.purging?.(pool);
    await this.store.removePool(pool);
    const endpoint = this.endpoints.claimedBy(pool.hsmUri);
    if (endpoint) await this.store.releaseEndpoint(endpoint, pool.name);
  }

  private async create(subscriptionId: string, resourceGroup: string, name: string, body: PoolBody): Promise<ManagedHsmPool> {
    const props = body.properties ?? {};
    const location = this.requireLocation(body.location);
    if (!body.sku) throw badRequest("The property 'sku' is required.");
    if (!props.initialAdminObjectIds || props.initialAdminObjectIds.length === 0) {
      throw badRequest("The property 'initialAdminObjectIds' is required: name at least one administrator's object id.");
    }
    await this.requireResourceGroup(subscriptionId, resourceGroup);
    const lower = name.toLowerCase();
    const template: ManagedHsmPool = {
      name: lower,
      tenantId: this.settings.tenantOf(subscriptionId)!,
      subscriptionId,
      resourceGroup,
      location,
      hsmUri: `https://${lower}.${MANAGED_HSM_SUBDOMAIN}.${this.settings.vaultDomain}/`,
      sku: 'Standard_B1',
      initialAdminObjectIds: [],
      softDeleteRetentionDays: 90,
      purgeProtection: false,
      publicNetworkAccess: 'Enabled',
      tags: {},
      activation: { status: 'NotActivated', message: NOT_ACTIVATED_MESSAGE },
      revision: 1,
      created: this.clock(),
    };
    // Validated before anything is claimed: a refused PUT leaves no endpoint claim behind.
    const shaped = applyProperties(template, body, true);
    const endpoint = await this.endpoints.claim((host) => this.store.claimEndpoint(host, lower));
    const pool: ManagedHsmPool = { ...shaped, ...(endpoint ? { hsmUri: `https://${endpoint}/` } : {}) };
    let won: boolean;
    try {
      won = await this.store.createPool(pool);
    } catch (error) {
      await this.abandonCreate(lower, endpoint).catch(() => undefined);
      throw error;
    }
    if (!won) {
      await this.abandonCreate(lower, endpoint);
      throw nameTaken(name);
    }
    let made = pool;
    try {
      const token = await this.settings.provisionToken?.(pool);
      if (token) {
        // The record keeps the token's label and sealed PINs; an undo below finds the token through it.
        made = { ...pool, token, revision: pool.revision + 1 };
        if (!(await this.store.updatePool(made, pool.revision))) throw nameTaken(name);
      }
      await this.settings.created?.(made);
    } catch (error) {
      await this.undoCreate(made).catch(() => undefined);
      throw error;
    }
    return made;
  }

  /** A creation whose grants failed: what it wrote goes, as a purge removes it, so no half-made pool stays. */
  private undoCreate(pool: ManagedHsmPool): Promise<void> {
    return this.remove(pool);
  }

  /** A claim is by name: a concurrent create of the same name claimed the same endpoint, released only when no pool of that name holds it. */
  private async abandonCreate(name: string, endpoint: string | undefined): Promise<void> {
    if (!endpoint) return;
    const holder = await this.store.getPool(name);
    if (!holder || this.endpoints.claimedBy(holder.hsmUri) !== endpoint) await this.store.releaseEndpoint(endpoint, name);
  }
}

/** The PUT/PATCH body onto a record, with ARM's refusals; nothing is written when one applies. */
function applyProperties(pool: ManagedHsmPool, body: PoolBody, creating: boolean): ManagedHsmPool {
  const props = body.properties ?? {};
  const next: ManagedHsmPool = { ...pool, ...softDeleteSettings(pool, props, creating, WHAT) };
  if (!creating && body.location !== undefined && normalizeLocation(body.location) !== pool.location) {
    throw badRequest("The property 'location' is set at creation and can't be modified.");
  }
  if (body.tags !== undefined) next.tags = { ...body.tags };
  if (body.sku !== undefined) next.sku = skuOf(body.sku, pool.sku, creating);
  if (props.initialAdminObjectIds !== undefined) {
    const ids = props.initialAdminObjectIds.map((id) => id.toLowerCase());
    const bad = ids.find((id) => !OBJECT_ID.test(id));
    if (bad !== undefined) throw badRequest(`The initial administrator '${bad.slice(0, 64)}' is not an object id (a GUID).`);
    if (!creating && !sameSet(ids, pool.initialAdminObjectIds)) {
      throw badRequest(
        "The property 'initialAdminObjectIds' is set at creation and can't be modified: grant administrators through the pool's local RBAC.",
      );
    }
    next.initialAdminObjectIds = [...new Set(ids)];
  }
  if (props.publicNetworkAccess !== undefined) next.publicNetworkAccess = publicNetworkAccess(props.publicNetworkAccess);
  return next;
}

/** The spec's SKU names, each in its family; a pool's SKU is its HSM's size, fixed at creation. */
function skuOf(sku: NonNullable<PoolBody['sku']>, current: ManagedHsmSkuName, creating: boolean): ManagedHsmSkuName {
  const name = Object.keys(MANAGED_HSM_SKUS).find((known) => known.toLowerCase() === sku.name?.toLowerCase()) as ManagedHsmSkuName | undefined;
  if (!name || (sku.family ?? MANAGED_HSM_SKUS[name]).toUpperCase() !== MANAGED_HSM_SKUS[name]) {
    throw badRequest(
      `The sku '${(sku.family ?? '').slice(0, 16)}/${(sku.name ?? '').slice(0, 32)}' is not valid: use family 'B' with 'Standard_B1', 'Custom_B32' or 'Custom_B6', or family 'C' with 'Custom_C42' or 'Custom_C10'.`,
    );
  }
  if (!creating && name !== current) throw badRequest("The property 'sku' is set at creation and can't be modified.");
  return name;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((id) => right.has(id));
}

function nameTaken(name: string): VaultError {
  return new VaultError(409, 'Conflict', alreadyExistsMessage(name));
}

function invalidNameMessage(name: string): string {
  return `The managed HSM pool name '${name.slice(0, 64)}' is invalid. A managed HSM pool's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`;
}

function alreadyExistsMessage(name: string): string {
  return `The managed HSM pool name '${name}' is already in use. Managed HSM pool names are globally unique so it is possible that the name is already taken.`;
}
