/**
 * The resource-group and subscription rules through their services, on in-memory stores: no
 * DynamoDB, no HTTP.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessStore, RoleAssignment } from '../../lib/access/assignments.ts';
import type { Principal } from '../../lib/auth/principal.ts';
import { VaultError } from '../../lib/core/errors.ts';
import { type ResourceGroupStore, ResourceGroupService } from '../../lib/vaults/resource-groups.ts';
import { SubscriptionService } from '../../lib/vaults/subscription-listing.ts';
import type { ResourceGroup, Subscription } from '../../lib/vaults/subscriptions.ts';
import { resourceGroupWire, subscriptionWire } from '../../lib/vaults/subscriptions-wire.ts';

const SUB = '00000000-0000-0000-0000-0000000000aa';

class MemoryResourceGroups implements ResourceGroupStore {
  readonly groups = new Map<string, ResourceGroup>();
  private key(s: string, n: string) {
    return `${s.toLowerCase()}|${n.toLowerCase()}`;
  }
  async getResourceGroup(s: string, n: string) {
    const g = this.groups.get(this.key(s, n));
    return g && structuredClone(g);
  }
  async createResourceGroup(g: ResourceGroup) {
    if (this.groups.has(this.key(g.subscriptionId, g.name))) return false;
    this.groups.set(this.key(g.subscriptionId, g.name), structuredClone(g));
    return true;
  }
  async updateResourceGroup(g: ResourceGroup) {
    if (!this.groups.has(this.key(g.subscriptionId, g.name))) return false;
    this.groups.set(this.key(g.subscriptionId, g.name), structuredClone(g));
    return true;
  }
  async listResourceGroups(s: string) {
    return [...this.groups.values()].filter((g) => g.subscriptionId.toLowerCase() === s.toLowerCase());
  }
  async deleteResourceGroup(s: string, n: string) {
    return this.groups.delete(this.key(s, n));
  }
}

async function errorOf(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected a VaultError');
}

describe('ResourceGroupService', () => {
  let store: MemoryResourceGroups;
  let vaults: { name: string; resourceGroup: string }[];
  let service: ResourceGroupService;

  beforeEach(() => {
    store = new MemoryResourceGroups();
    vaults = [];
    service = new ResourceGroupService(store, { vaultsIn: async () => vaults });
  });

  it('creates a group (201), then updates its tags (200) under the same name in any case, keeping the first spelling', async () => {
    const first = await service.createOrUpdate(SUB, 'Team-A', { location: 'West Europe', tags: { env: 'dev' } });
    expect(first).toEqual({ created: true, group: { subscriptionId: SUB, name: 'Team-A', location: 'westeurope', tags: { env: 'dev' } } });
    const second = await service.createOrUpdate(SUB, 'team-a', { location: 'westeurope', tags: { env: 'prod' } });
    expect(second).toEqual({ created: false, group: { subscriptionId: SUB, name: 'Team-A', location: 'westeurope', tags: { env: 'prod' } } });
    expect((await service.get(SUB, 'TEAM-A')).tags).toEqual({ env: 'prod' });
    expect(await service.list(SUB)).toHaveLength(1);
  });

  it('requires a location, and refuses moving a group to another one', async () => {
    const missing = await errorOf(service.createOrUpdate(SUB, 'g', { tags: {} }));
    expect([missing.status, missing.code]).toEqual([400, 'LocationRequired']);
    expect(store.groups.size).toBe(0);
    await service.createOrUpdate(SUB, 'g', { location: 'eastus' });
    const moved = await errorOf(service.createOrUpdate(SUB, 'g', { location: 'westus' }));
    expect([moved.status, moved.code]).toEqual([409, 'InvalidResourceGroupLocation']);
    expect(moved.message).toContain("already exists in location 'eastus'");
    expect((await service.get(SUB, 'g')).location).toBe('eastus');
  });

  it('refuses more than 50 tags and changes nothing', async () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    const error = await errorOf(service.createOrUpdate(SUB, 'g', { location: 'eastus', tags }));
    expect([error.status, error.code]).toEqual([400, 'InvalidTag']);
    expect(store.groups.size).toBe(0);
  });

  it("answers ARM's 404 for a group that does not exist", async () => {
    const error = await errorOf(service.get(SUB, 'nope'));
    expect([error.status, error.code, error.message]).toEqual([404, 'ResourceGroupNotFound', "Resource group 'nope' could not be found."]);
    expect((await errorOf(service.delete(SUB, 'nope'))).code).toBe('ResourceGroupNotFound');
  });

  it('deletes an empty group, and refuses one that holds a vault (live or soft-deleted) with a 409 naming it', async () => {
    await service.createOrUpdate(SUB, 'Full', { location: 'eastus' });
    await service.createOrUpdate(SUB, 'empty', { location: 'eastus' });
    vaults = [
      { name: 'kept-vault', resourceGroup: 'FULL' },
      { name: 'elsewhere', resourceGroup: 'other' },
    ];
    const refused = await errorOf(service.delete(SUB, 'full'));
    expect([refused.status, refused.code]).toEqual([409, 'ResourceGroupNotEmpty']);
    expect(refused.message).toContain('kept-vault');
    expect(refused.message).not.toContain('elsewhere');
    expect((await service.get(SUB, 'Full')).name).toBe('Full');
    await service.delete(SUB, 'EMPTY');
    expect((await errorOf(service.get(SUB, 'empty'))).status).toBe(404);
  });

  it("is ARM's resource-group shape on the wire", () => {
    expect(resourceGroupWire({ subscriptionId: SUB, name: 'Team-A', location: 'eastus', tags: { a: 'b' } })).toEqual({
      id: `/subscriptions/${SUB}/resourceGroups/Team-A`,
      name: 'Team-A',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'eastus',
      tags: { a: 'b' },
      properties: { provisioningState: 'Succeeded' },
    });
  });
});

describe('SubscriptionService', () => {
  const subscriptions: Subscription[] = [
    { subscriptionId: SUB, tenantId: 'tenant-1', displayName: 'one' },
    { subscriptionId: '00000000-0000-0000-0000-0000000000bb', tenantId: 'tenant-1', displayName: 'two' },
    { subscriptionId: '00000000-0000-0000-0000-0000000000cc', tenantId: 'tenant-2', displayName: 'other tenant' },
  ];
  const principal = (objectId: string, tenantId = 'tenant-1'): Principal => ({ tenantId, objectId, issuer: 'https://issuer' });
  const held = new Map<string, string[]>([['reader', ['00000000-0000-0000-0000-0000000000BB']]]);
  const asked: string[] = [];
  const assignments: Pick<AccessStore, 'assignmentsOf'> = {
    assignmentsOf: async (tenantId, principalId, subscriptionId) => {
      asked.push(`${tenantId}|${principalId}|${subscriptionId}`);
      const subs = held.get(principalId) ?? [];
      return subs.some((s) => s.toLowerCase() === subscriptionId.toLowerCase()) ? [{ name: 'x' } as RoleAssignment] : [];
    },
  };
  const service = new SubscriptionService(subscriptions, { isTenantAdministrator: (p) => p.objectId === 'admin' }, assignments);

  it("lists all of the caller's tenant's subscriptions for its administrator, and none of another tenant's", async () => {
    expect((await service.visibleTo(principal('admin'))).map((s) => s.displayName)).toEqual(['one', 'two']);
  });

  it('lists only the subscriptions a principal holds a role in, and none for a principal without roles', async () => {
    expect((await service.visibleTo(principal('reader'))).map((s) => s.displayName)).toEqual(['two']);
    expect(await service.visibleTo(principal('nobody'))).toEqual([]);
    expect(asked).toContain(`tenant-1|nobody|${SUB}`);
    expect(asked.some((a) => a.includes('0000000000cc'))).toBe(false);
  });

  it("gets a subscription in any case, and answers ARM's shape", () => {
    expect(subscriptionWire(service.get(SUB.toUpperCase()))).toEqual({
      id: `/subscriptions/${SUB}`,
      subscriptionId: SUB,
      tenantId: 'tenant-1',
      displayName: 'one',
      state: 'Enabled',
      subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
      authorizationSource: 'RoleBased',
    });
    expect(() => service.get('00000000-0000-0000-0000-000000000000')).toThrow(/could not be found/);
  });
});
