import { describe, expect, it } from 'vitest';
import { PoolManager } from '../../lib/hsm/pool-manager.ts';
import type { PoolBody } from '../../lib/hsm/pool-schemas.ts';
import type { ManagedHsmPool, PoolStore } from '../../lib/hsm/pools.ts';

/**
 * The pool manager's rules over an in-memory store (the DynamoDB adapter is the compat test's): the
 * races ARM clients can make, purge protection on the pool's clock, and what a refused or failed
 * create leaves behind.
 */
const SUB = '00000000-0000-0000-0000-00000000000a';
const OTHER_SUB = '00000000-0000-0000-0000-00000000000b';
const TENANT = '11111111-1111-1111-1111-111111111111';
const ADMIN = '22222222-2222-2222-2222-222222222222';
const DAY = 86_400;

class MemoryPools implements PoolStore {
  readonly pools = new Map<string, ManagedHsmPool>();
  readonly claims = new Map<string, string>();
  readonly groups = new Set([`${SUB}/rg`, `${SUB}/other`, `${OTHER_SUB}/rg`]);
  /** Writes of a pool that fail or lose a race once, as a concurrent request would make them. */
  failNextCreate?: Error;
  loseNextUpdate?: (stored: ManagedHsmPool) => ManagedHsmPool;

  async getPool(name: string) {
    return structuredClone(this.pools.get(name));
  }
  async createPool(pool: ManagedHsmPool) {
    if (this.failNextCreate) {
      const error = this.failNextCreate;
      this.failNextCreate = undefined;
      throw error;
    }
    if (this.pools.has(pool.name)) return false;
    this.pools.set(pool.name, structuredClone(pool));
    return true;
  }
  async updatePool(pool: ManagedHsmPool, expectedRevision: number) {
    if (this.loseNextUpdate) {
      const stored = this.pools.get(pool.name)!;
      this.pools.set(pool.name, this.loseNextUpdate(stored));
      this.loseNextUpdate = undefined;
    }
    if (this.pools.get(pool.name)?.revision !== expectedRevision) return false;
    this.pools.set(pool.name, structuredClone(pool));
    return true;
  }
  async poolsIn(subscriptionId: string) {
    return [...this.pools.values()].filter((p) => p.subscriptionId === subscriptionId).map((p) => structuredClone(p));
  }
  async claimEndpoint(host: string, name: string) {
    const holder = this.claims.get(host);
    if (holder !== undefined && holder !== name) return false;
    this.claims.set(host, name);
    return true;
  }
  async releaseEndpoint(host: string, name: string) {
    if (this.claims.get(host) === name) this.claims.delete(host);
  }
  async poolAtEndpoint(host: string) {
    return this.claims.get(host);
  }
  async removePool(pool: ManagedHsmPool) {
    this.pools.delete(pool.name);
  }
  async resourceGroupExists(subscriptionId: string, name: string) {
    return this.groups.has(`${subscriptionId}/${name}`);
  }
  async deletedPoolsDue(until: number, limit: number) {
    return [...this.pools.values()]
      .filter((p) => p.deleted && Date.parse(p.deleted.scheduledPurgeDate) <= until * 1000)
      .sort((a, b) => Date.parse(a.deleted!.scheduledPurgeDate) - Date.parse(b.deleted!.scheduledPurgeDate))
      .slice(0, limit)
      .map((p) => p.name);
  }
}

function setup(endpoints = ['https://localhost:9001', 'https://localhost:9002']) {
  const store = new MemoryPools();
  let now = 1_800_000_000;
  const manager = new PoolManager(store, { vaultDomain: 'vault.example.com', endpoints, tenantOf: () => TENANT }, () => now);
  return { store, manager, pass: (seconds: number) => (now += seconds) };
}

const body = (properties: NonNullable<PoolBody['properties']> = {}): PoolBody => ({
  location: 'East US',
  sku: { family: 'B', name: 'Standard_B1' },
  properties: { tenantId: TENANT, initialAdminObjectIds: [ADMIN], ...properties },
});

describe('the pool manager', () => {
  it('names a pool by the vault domain where no local endpoints are configured', async () => {
    const { manager } = setup([]);
    const pool = await manager.createOrUpdate(SUB, 'rg', 'Pool-One', body());
    expect(pool).toMatchObject({ name: 'pool-one', location: 'eastus', hsmUri: 'https://pool-one.managedhsm.vault.example.com/' });
    expect(pool.activation.status).toBe('NotActivated');
  });

  it('claims the first free endpoint, and a refused create claims none', async () => {
    const { manager, store } = setup();
    store.claims.set('localhost:9001', 'a-vault');
    await expect(manager.createOrUpdate(SUB, 'rg', 'refused', body({ softDeleteRetentionInDays: 100 }))).rejects.toMatchObject({ status: 400 });
    await expect(manager.createOrUpdate(SUB, 'missing', 'refused', body())).rejects.toMatchObject({ status: 404, code: 'ResourceGroupNotFound' });
    expect([...store.claims]).toEqual([['localhost:9001', 'a-vault']]);
    expect((await manager.createOrUpdate(SUB, 'rg', 'pool1', body())).hsmUri).toBe('https://localhost:9002/');
    await expect(manager.createOrUpdate(SUB, 'rg', 'pool2', body())).rejects.toMatchObject({ status: 409, code: 'QuotaExceeded' });
  });

  it('releases the endpoint of a create whose write failed, and keeps the one a concurrent create of the name holds', async () => {
    const { manager, store } = setup();
    store.failNextCreate = new Error('store down');
    await expect(manager.createOrUpdate(SUB, 'rg', 'pool1', body())).rejects.toThrow('store down');
    expect(store.claims.size).toBe(0);
    // Taken between the read and the write by a create of the same name, which claimed the same endpoint.
    const original = store.createPool.bind(store);
    store.createPool = async (pool) => {
      await original(pool);
      return false;
    };
    await expect(manager.createOrUpdate(SUB, 'rg', 'pool1', body())).rejects.toMatchObject({ status: 409 });
    expect(store.claims.get('localhost:9001')).toBe('pool1');
  });

  it('keeps pool names global: another subscription cannot take, read or recover them', async () => {
    const { manager } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'pool1', body());
    await expect(manager.createOrUpdate(OTHER_SUB, 'rg', 'pool1', body())).rejects.toMatchObject({ status: 409 });
    await expect(manager.get(OTHER_SUB, 'rg', 'pool1')).rejects.toMatchObject({ status: 404 });
    await expect(manager.createOrUpdate(SUB, 'other', 'pool1', body())).rejects.toMatchObject({ status: 409 });
    await manager.delete(SUB, 'rg', 'pool1');
    await expect(manager.createOrUpdate(OTHER_SUB, 'rg', 'pool1', body({ createMode: 'recover' }))).rejects.toMatchObject({ status: 409 });
    await expect(manager.createOrUpdate(SUB, 'other', 'pool1', body({ createMode: 'recover' }))).rejects.toMatchObject({ status: 404 });
    await expect(manager.getDeleted(OTHER_SUB, 'eastus', 'pool1')).rejects.toMatchObject({ status: 404 });
    expect((await manager.createOrUpdate(SUB, 'rg', 'pool1', body({ createMode: 'RECOVER' }))).deleted).toBeUndefined();
  });

  it('applies a change to the latest record when another request changed it first', async () => {
    const { manager, store } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'pool1', body());
    store.loseNextUpdate = (stored) => ({ ...stored, tags: { by: 'other' }, revision: stored.revision + 1 });
    const updated = await manager.update(SUB, 'rg', 'pool1', { properties: { enablePurgeProtection: true } });
    expect(updated).toMatchObject({ tags: { by: 'other' }, purgeProtection: true, revision: 3 });
  });

  it('purges a protected pool only once its retention has ended on its clock, and hands its endpoint back', async () => {
    const { manager, store, pass } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'pool1', body({ softDeleteRetentionInDays: 7, enablePurgeProtection: true }));
    await manager.delete(SUB, 'rg', 'pool1');
    const deleted = await manager.getDeleted(SUB, 'East US', 'pool1');
    expect(Date.parse(deleted.deleted!.scheduledPurgeDate) - Date.parse(deleted.deleted!.deletionDate)).toBe(7 * DAY * 1000);
    pass(7 * DAY - 1);
    await expect(manager.purge(SUB, 'eastus', 'pool1')).rejects.toMatchObject({ status: 409, code: 'Conflict' });
    expect(store.pools.has('pool1')).toBe(true);
    pass(1);
    await manager.purge(SUB, 'eastus', 'pool1');
    expect(store.pools.size).toBe(0);
    expect(store.claims.size).toBe(0);
  });

  it("purges a deleted pool at the end of its retention, protected or not, as a caller's purge does, and nothing before", async () => {
    const purged: string[] = [];
    const store = new MemoryPools();
    let now = 1_800_000_000;
    const settings = { vaultDomain: 'vault.example.com', endpoints: ['https://localhost:9001', 'https://localhost:9002'], tenantOf: () => TENANT };
    const manager = new PoolManager(store, { ...settings, purging: async (pool) => void purged.push(pool.name) }, () => now);
    await manager.createOrUpdate(SUB, 'rg', 'pool1', body({ softDeleteRetentionInDays: 7, enablePurgeProtection: true }));
    await manager.createOrUpdate(SUB, 'rg', 'pool2', body({ softDeleteRetentionInDays: 7 }));
    expect(await manager.purgeAtRetentionEnd('pool2', now + 30 * DAY)).toBe(false);
    await manager.delete(SUB, 'rg', 'pool1');
    const scheduled = Date.parse((await manager.getDeleted(SUB, 'eastus', 'pool1')).deleted!.scheduledPurgeDate) / 1000;
    expect(await manager.purgeAtRetentionEnd('pool1', scheduled - 1)).toBe(false);
    expect(store.pools.has('pool1')).toBe(true);
    now = scheduled;
    expect(await manager.purgeAtRetentionEnd('pool1', scheduled)).toBe(true);
    expect(purged).toEqual(['pool1']);
    expect([...store.pools.keys()]).toEqual(['pool2']);
    expect(store.claims.size).toBe(1);
    expect(await manager.purgeAtRetentionEnd('pool1', scheduled)).toBe(false);
  });

  it('refuses a different sku, location or administrators after creation, and accepts the same ones again', async () => {
    const { manager } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'pool1', body());
    expect((await manager.createOrUpdate(SUB, 'rg', 'pool1', body({ initialAdminObjectIds: [ADMIN.toUpperCase()] }))).revision).toBe(2);
    await expect(manager.update(SUB, 'rg', 'pool1', { sku: { family: 'C', name: 'Custom_C42' } })).rejects.toMatchObject({ status: 400 });
    await expect(manager.update(SUB, 'rg', 'pool1', { location: 'westeurope' })).rejects.toMatchObject({ status: 400 });
    await expect(
      manager.update(SUB, 'rg', 'pool1', { properties: { initialAdminObjectIds: ['33333333-3333-3333-3333-333333333333'] } }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await manager.get(SUB, 'rg', 'pool1')).revision).toBe(2);
  });
});
