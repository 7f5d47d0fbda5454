import { VaultError } from '../core/errors.ts';
import type { ResourceGroupBody } from './resource-groups-schemas.ts';
import type { ResourceGroup } from './subscriptions.ts';
import type { Vault } from './vault.ts';

/**
 * Resource groups (docs/adr/0013): ARM clients create one before the vaults in it, and a vault can
 * only be created in a group that exists. Names compare case-insensitively; the stored spelling is
 * the creator's, and a later PUT with another spelling updates the same group.
 */

/** The port lib/aws/dynamo-resource-groups.ts implements. */
export interface ResourceGroupStore {
  /** The group, whatever the case of `name`; undefined if the subscription has none by that name. */
  getResourceGroup(subscriptionId: string, name: string): Promise<ResourceGroup | undefined>;
  /** Writes a new group; false if one by that name (in any case) exists already. */
  createResourceGroup(group: ResourceGroup): Promise<boolean>;
  /** Replaces an existing group's tags; false if it is gone. */
  updateResourceGroup(group: ResourceGroup): Promise<boolean>;
  listResourceGroups(subscriptionId: string): Promise<ResourceGroup[]>;
  /** True if it was there. */
  deleteResourceGroup(subscriptionId: string, name: string): Promise<boolean>;
}

/** What lives in a subscription (its vaults and managed HSM pools): a group that still holds one, live or soft-deleted, is not deleted. */
export interface ResourceGroupContents {
  vaultsIn(subscriptionId: string): Promise<Pick<Vault, 'name' | 'resourceGroup'>[]>;
}

/** ARM allows 50 tags on a resource. */
const MAX_TAGS = 50;

export class ResourceGroupService {
  constructor(
    private readonly store: ResourceGroupStore,
    private readonly contents: ResourceGroupContents,
  ) {}

  /** The group, or ARM's 404 ResourceGroupNotFound. */
  async get(subscriptionId: string, name: string): Promise<ResourceGroup> {
    const group = await this.store.getResourceGroup(subscriptionId, name);
    if (!group) throw resourceGroupNotFound(name);
    return group;
  }

  list(subscriptionId: string): Promise<ResourceGroup[]> {
    return this.store.listResourceGroups(subscriptionId);
  }

  /** Creates the group or replaces its tags; a group does not move, so another location is ARM's 409. */
  async createOrUpdate(subscriptionId: string, name: string, body: ResourceGroupBody): Promise<{ group: ResourceGroup; created: boolean }> {
    const location = normalizeLocation(body.location);
    const tags = body.tags ?? {};
    if (Object.keys(tags).length > MAX_TAGS) {
      throw new VaultError(400, 'InvalidTag', `The resource group has ${Object.keys(tags).length} tags; at most ${MAX_TAGS} are allowed.`);
    }
    // Two tries: a group created between our read and our conditional create is then updated.
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = await this.store.getResourceGroup(subscriptionId, name);
      if (!existing) {
        const group: ResourceGroup = { subscriptionId, name, location, tags };
        if (await this.store.createResourceGroup(group)) return { group, created: true };
        continue;
      }
      if (existing.location !== location) {
        throw new VaultError(
          409,
          'InvalidResourceGroupLocation',
          `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
        );
      }
      const group: ResourceGroup = { ...existing, tags };
      if (await this.store.updateResourceGroup(group)) return { group, created: false };
    }
    throw new VaultError(409, 'Conflict', `The resource group '${name}' was changed concurrently; retry the request.`);
  }

  /**
   * Azure deletes a group's contents with it; Coffer refuses while the group holds a vault or a
   * managed HSM pool, live or soft-deleted, so none (and none of their keys) is lost by deleting its group.
   */
  async delete(subscriptionId: string, name: string): Promise<void> {
    const group = await this.get(subscriptionId, name);
    const vaults = (await this.contents.vaultsIn(subscriptionId))
      .filter((vault) => vault.resourceGroup.toLowerCase() === group.name.toLowerCase())
      .map((vault) => vault.name);
    if (vaults.length > 0) {
      throw new VaultError(
        409,
        'ResourceGroupNotEmpty',
        `The resource group '${group.name}' cannot be deleted because it contains vaults or managed HSM pools (${vaults.slice(0, 10).join(', ')}), live or soft-deleted. Delete and purge them first.`,
      );
    }
    if (!(await this.store.deleteResourceGroup(subscriptionId, name))) throw resourceGroupNotFound(name);
  }
}

function resourceGroupNotFound(name: string): VaultError {
  return new VaultError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
}

/** ARM keeps a location as its short name: `West Europe` and `westeurope` are one region. */
function normalizeLocation(location: string | undefined): string {
  const normalized = (location ?? '').replace(/\s+/g, '').toLowerCase();
  if (normalized === '') throw new VaultError(400, 'LocationRequired', 'The location property is required for this definition.');
  if (!/^[a-z0-9]{1,64}$/.test(normalized))
    throw new VaultError(
      400,
      'LocationNotAvailableForResourceGroup',
      `The provided location '${location?.slice(0, 64)}' is not available for resource group.`,
    );
  return normalized;
}
