import { VaultError } from '../core/errors.ts';

/**
 * What vaults and managed HSM pools (lib/hsm/pool-manager.ts) share as Key Vault's ARM resources:
 * a global name in one resource group of one subscription, soft delete with a retention fixed at
 * creation, irreversible purge protection, public network access, and changes conditional on the
 * revision they read. The rules and ARM's wording live here once; each manager names its resource.
 */
export interface SoftDeletableResource {
  /** Lowercased: names are global and case-insensitive. */
  name: string;
  subscriptionId: string;
  /** As its creator spelled it. */
  resourceGroup: string;
  location: string;
  /** Set while the resource is soft-deleted, until it is recovered or purged. */
  deleted?: { deletionDate: string; scheduledPurgeDate: string };
  /** Bumped by every change: updates are conditional on the revision they read. */
  revision: number;
  /** Soft-delete retention, 7 to 90 days, fixed at creation. */
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  /** Unix seconds of the last management change; absent until the first. */
  updated?: number;
}

/** The soft-delete properties of a PUT or PATCH body, as both resources' schemas read them. */
export interface SoftDeleteProperties {
  enableSoftDelete?: boolean | undefined;
  softDeleteRetentionInDays?: number | undefined;
  enablePurgeProtection?: boolean | undefined;
}

const DAY_MS = 86_400_000;
/** A lost race on a revision is retried this often before the caller gets a 409. */
const UPDATE_ATTEMPTS = 3;

export const badRequest = (message: string) => new VaultError(400, 'BadRequest', message);

/** Azure's `location` spelling: case and spaces do not matter (`West Europe` is `westeurope`). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export function sameResourceGroup(resource: SoftDeletableResource, subscriptionId: string, resourceGroup: string): boolean {
  return (
    resource.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && resource.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()
  );
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A deleted resource of the subscription at the location; anything else is not it. */
function isDeletedAt(resource: SoftDeletableResource | undefined, subscriptionId: string, location: string): boolean {
  return (
    resource?.deleted !== undefined &&
    resource.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
    normalizeLocation(resource.location) === normalizeLocation(location)
  );
}

/** The soft-delete mark at `nowSeconds` (the resource's clock): its purge is due after the retention. */
function deletionMark(resource: SoftDeletableResource, nowSeconds: number): NonNullable<SoftDeletableResource['deleted']> {
  const deletionDate = new Date(nowSeconds * 1000);
  const scheduledPurgeDate = new Date(deletionDate.getTime() + resource.softDeleteRetentionDays * DAY_MS);
  return { deletionDate: deletionDate.toISOString(), scheduledPurgeDate: scheduledPurgeDate.toISOString() };
}

/** A purge-protected resource is purged only once its retention has ended. */
export function assertPurgeAllowed(resource: SoftDeletableResource, nowSeconds: number, operation: string, what: string): void {
  const deleted = resource.deleted;
  if (deleted && resource.purgeProtection && nowSeconds * 1000 < Date.parse(deleted.scheduledPurgeDate)) {
    throw new VaultError(
      409,
      'Conflict',
      `Operation '${operation}' is not allowed: the ${what} '${resource.name}' has purge protection enabled and cannot be purged before its scheduled purge date ${deleted.scheduledPurgeDate}.`,
    );
  }
}

/** The body's tenant must be the subscription's; required when creating. */
export function checkTenant(
  tenantOf: (subscriptionId: string) => string | undefined,
  subscriptionId: string,
  tenantId: string | undefined,
  required: boolean,
): void {
  if (tenantId === undefined) {
    if (required) throw badRequest("The property 'tenantId' is required.");
    return;
  }
  const expected = tenantOf(subscriptionId);
  if (!expected || expected.toLowerCase() !== tenantId.toLowerCase()) {
    throw badRequest(`The tenant '${tenantId}' given in the request is not the tenant of subscription '${subscriptionId}'.`);
  }
}

/**
 * Soft delete is always on, the retention is set once (7 to 90 days), purge protection cannot be
 * turned off, nor asked for as false at creation. `what` names the resource in ARM's wording.
 */
export function softDeleteSettings(
  current: Pick<SoftDeletableResource, 'softDeleteRetentionDays' | 'purgeProtection'>,
  props: SoftDeleteProperties,
  creating: boolean,
  what: string,
): Pick<SoftDeletableResource, 'softDeleteRetentionDays' | 'purgeProtection'> {
  const next = { softDeleteRetentionDays: current.softDeleteRetentionDays, purgeProtection: current.purgeProtection };
  if (props.enableSoftDelete === false) {
    throw badRequest(`The property "enableSoftDelete" cannot be set to false. Soft delete is always enabled for a ${what} and cannot be turned off.`);
  }
  if (props.softDeleteRetentionInDays !== undefined) {
    const days = props.softDeleteRetentionInDays;
    if (!Number.isInteger(days) || days < 7 || days > 90) throw badRequest('The property "softDeleteRetentionInDays" must be between 7 and 90.');
    if (!creating && days !== current.softDeleteRetentionDays) {
      throw badRequest('The property "softDeleteRetentionInDays" has been set already and it can\'t be modified.');
    }
    next.softDeleteRetentionDays = days;
  }
  if (props.enablePurgeProtection !== undefined) {
    if (!props.enablePurgeProtection && current.purgeProtection) {
      throw badRequest(
        `The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a ${what} is an irreversible action.`,
      );
    }
    if (!props.enablePurgeProtection && creating)
      throw badRequest('The property "enablePurgeProtection" cannot be set to false: leave it out instead.');
    next.purgeProtection = props.enablePurgeProtection;
  }
  return next;
}

export function publicNetworkAccess(value: string): 'Enabled' | 'Disabled' {
  const access = value.toLowerCase();
  if (access !== 'enabled' && access !== 'disabled') {
    throw badRequest(`The value '${value}' of 'publicNetworkAccess' is not valid: use 'Enabled' or 'Disabled'.`);
  }
  return access === 'enabled' ? 'Enabled' : 'Disabled';
}

/** How a manager writes and rereads its records for `changeRevisioned`. */
export interface RevisionedWrites<T> {
  /** Writes the record if its stored revision is still `expectedRevision`; false if another change came first. */
  write(next: T, expectedRevision: number): Promise<boolean>;
  reread(name: string): Promise<T | undefined>;
  /** Unix seconds on the resource's clock: the change's `updated`. */
  now(name: string): number;
  /** Told of every change that was written. */
  changed?(name: string): void;
}

/** Applies the change to the latest record, conditional on its revision; a lost race reads again and retries. */
async function changeRevisioned<T extends SoftDeletableResource>(
  record: T,
  apply: (current: T) => T,
  writes: RevisionedWrites<T>,
  what: string,
): Promise<T> {
  let current = record;
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const next = { ...apply(current), revision: current.revision + 1, updated: writes.now(current.name) };
    if (await writes.write(next, current.revision)) {
      writes.changed?.(record.name);
      return next;
    }
    const reread = await writes.reread(record.name);
    if (!reread) break;
    current = reread;
  }
  throw new VaultError(409, 'Conflict', `The ${what} '${record.name}' was changed by another request at the same time; retry the request.`);
}

/**
 * The local endpoints (COFFER_VAULT_ENDPOINTS) a new resource claims one of, first free first; none
 * where host names resolve. Vaults and pools claim from the one pool of ports the gateway serves, and
 * a claim names its holder, so a port is never two resources'.
 */
export class LocalEndpoints {
  constructor(private readonly endpoints: readonly string[]) {}

  async claim(tryClaim: (hostAndPort: string) => Promise<boolean>): Promise<string | undefined> {
    if (this.endpoints.length === 0) return undefined;
    for (const url of this.endpoints) {
      const host = new URL(url).host.toLowerCase();
      if (await tryClaim(host)) return host;
    }
    throw new VaultError(409, 'QuotaExceeded', 'Every local vault endpoint is taken: purge a deleted vault or configure more endpoints.');
  }

  /** The endpoint a resource's URI names when it is one of the pool's. */
  claimedBy(uri: string): string | undefined {
    const host = new URL(uri).host.toLowerCase();
    return this.endpoints.some((url) => new URL(url).host.toLowerCase() === host) ? host : undefined;
  }
}

/** How a manager reads its records for `SoftDeletableResources`. */
export interface ResourceRecords<T> {
  /** The record, deleted or not. */
  read(name: string): Promise<T | undefined>;
  /** Every record of the subscription, deleted or not. */
  inSubscription(subscriptionId: string): Promise<T[]>;
  /** Whether the resource group exists (ARM clients create it before the resources in it). */
  resourceGroupExists(subscriptionId: string, name: string): Promise<boolean>;
}

/** How ARM names the resource in its answers: `vault` and `Microsoft.KeyVault/vaults`. */
export interface ResourceWording {
  what: string;
  type: string;
}

/**
 * The reads and soft-delete changes every soft-deletable resource answers alike: the live one of a
 * resource group, the subscription's live and deleted ones, the deleted one at a location, soft
 * delete, recovery into its own resource group, and revisioned changes; ARM's wording names the
 * resource. A manager extends it with its own create, update and purge.
 */
export class SoftDeletableResources<T extends SoftDeletableResource> {
  constructor(
    private readonly records: ResourceRecords<T>,
    private readonly writes: RevisionedWrites<T>,
    private readonly wording: ResourceWording,
  ) {}

  /** The PUT's `createMode`: `default` or `recover`, in any case. */
  protected createMode(value: string | undefined): 'default' | 'recover' {
    const mode = (value ?? 'default').toLowerCase();
    if (mode !== 'default' && mode !== 'recover')
      throw badRequest(`The value '${value}' of the property 'createMode' is not valid: use 'default' or 'recover'.`);
    return mode;
  }

  /** A creation's location, required, in Azure's spelling. */
  protected requireLocation(location: string | undefined): string {
    if (!location) throw new VaultError(400, 'LocationRequired', 'The location property is required for this definition.');
    return normalizeLocation(location);
  }

  /** A resource is created only in a resource group that exists. */
  protected async requireResourceGroup(subscriptionId: string, resourceGroup: string): Promise<void> {
    if (!(await this.records.resourceGroupExists(subscriptionId, resourceGroup))) {
      throw new VaultError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
    }
  }

  async get(subscriptionId: string, resourceGroup: string, name: string): Promise<T> {
    const resource = await this.records.read(name.toLowerCase());
    if (!resource || resource.deleted || !sameResourceGroup(resource, subscriptionId, resourceGroup)) {
      throw new VaultError(
        404,
        'ResourceNotFound',
        `The Resource '${this.wording.type}/${name}' under resource group '${resourceGroup}' was not found.`,
      );
    }
    return resource;
  }

  /** Soft delete: the resource stays, unreachable, until recovered or purged. False when there was no such live resource. */
  async delete(subscriptionId: string, resourceGroup: string, name: string): Promise<boolean> {
    const resource = await this.records.read(name.toLowerCase());
    if (!resource || resource.deleted || !sameResourceGroup(resource, subscriptionId, resourceGroup)) return false;
    await this.change(resource, (current) => ({ ...current, deleted: deletionMark(current, this.writes.now(current.name)) }));
    return true;
  }

  /** The subscription's live resources (of one resource group, when given), in name order. */
  async list(subscriptionId: string, resourceGroup?: string): Promise<T[]> {
    return (await this.records.inSubscription(subscriptionId))
      .filter((r) => !r.deleted && (resourceGroup === undefined || r.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()))
      .sort(byName);
  }

  async listDeleted(subscriptionId: string): Promise<T[]> {
    return (await this.records.inSubscription(subscriptionId)).filter((r) => r.deleted).sort(byName);
  }

  async getDeleted(subscriptionId: string, location: string, name: string): Promise<T> {
    const resource = await this.records.read(name.toLowerCase());
    if (!resource || !isDeletedAt(resource, subscriptionId, location)) {
      throw new VaultError(404, 'ResourceNotFound', `The deleted ${this.wording.what} '${name}' was not found in location '${location}'.`);
    }
    return resource;
  }

  /**
   * Recovered into its own resource group only: the caller's write permission was checked on the group
   * the path names, so recovering through another group's path would pass another's check.
   */
  protected async recover(existing: T | undefined, subscriptionId: string, resourceGroup: string, name: string): Promise<T> {
    if (!existing?.deleted || !sameResourceGroup(existing, subscriptionId, resourceGroup)) {
      throw new VaultError(
        404,
        'ResourceNotFound',
        `No deleted ${this.wording.what} named '${name}' was found in resource group '${resourceGroup}' to recover.`,
      );
    }
    return this.change(existing, (current) => {
      const { deleted: _deleted, ...recovered } = current;
      return recovered as T;
    });
  }

  /** Applies the change to the latest record, conditional on its revision; a lost race reads again and retries. */
  protected change(resource: T, apply: (current: T) => T): Promise<T> {
    return changeRevisioned(resource, apply, this.writes, this.wording.what);
  }
}
