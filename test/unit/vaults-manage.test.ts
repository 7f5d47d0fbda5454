import { describe, expect, it } from 'vitest';
import { VaultError } from '../../lib/core/errors.ts';
import { MemoryAccessStore } from '../../lib/access/memory-store.ts';
import { VaultManager } from '../../lib/vaults/manage.ts';
import type { Vault, VaultStore } from '../../lib/vaults/vault.ts';

const SUB = '00000000-0000-0000-0000-000000000001';
const TENANT = '11111111-1111-1111-1111-111111111111';

class MemoryVaultStore implements VaultStore {
  vaults = new Map<string, Vault>();
  endpoints = new Map<string, string>();
  purged: string[] = [];
  async getVault(name: string) {
    const v = this.vaults.get(name);
    return v && structuredClone(v);
  }
  async createVault(vault: Vault) {
    if (this.vaults.has(vault.name)) return false;
    this.vaults.set(vault.name, structuredClone(vault));
    return true;
  }
  async updateVault(vault: Vault, expected: number) {
    if (this.vaults.get(vault.name)?.revision !== expected) return false;
    this.vaults.set(vault.name, structuredClone(vault));
    return true;
  }
  async vaultAtEndpoint(host: string) {
    return this.endpoints.get(host);
  }
  async vaultsIn(subscriptionId: string) {
    return [...this.vaults.values()].filter((v) => v.subscriptionId === subscriptionId);
  }
  async claimEndpoint(host: string, name: string) {
    const holder = this.endpoints.get(host);
    if (holder && holder !== name) return false;
    this.endpoints.set(host, name);
    return true;
  }
  async releaseEndpoint(host: string, name: string) {
    if (this.endpoints.get(host) === name) this.endpoints.delete(host);
  }
  async purgeVault(vault: Vault) {
    this.purged.push(vault.name);
    this.vaults.delete(vault.name);
    return ['arn:hsm:1'];
  }
  async resourceGroupExists(_s: string, name: string) {
    return name.toLowerCase() === 'rg';
  }
}

function setup(endpoints: string[] = []) {
  const store = new MemoryVaultStore();
  const scheduled: string[] = [];
  let now = Date.parse('2026-12-01T00:00:00Z');
  const keys = {
    createVaultKey: async (name: string) => `arn:kms:${name}`,
    generateDataKey: async () => ({ plaintext: new Uint8Array(32), ciphertext: new Uint8Array([1, 2]) }),
    decryptDataKey: async () => new Uint8Array(32),
    scheduleKeyDeletion: async (arn: string) => {
      scheduled.push(arn);
      return true;
    },
  };
  const manager = new VaultManager(
    store,
    keys as never,
    { vaultDomain: 'vault.localhost', vaultEndpoints: endpoints, tenantOf: (s) => (s === SUB ? TENANT : undefined) },
    (_vault) => Math.floor(now / 1000),
  );
  return { store, manager, scheduled, keys, advance: (ms: number) => (now += ms) };
}

const body = (props: Record<string, unknown> = {}) => ({
  location: 'West Europe',
  properties: { tenantId: TENANT, sku: { family: 'A', name: 'standard' }, ...props },
});

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  return { status: (error as VaultError).status, code: (error as VaultError).code };
}

describe('VaultManager', () => {
  it('creates a vault with the defaults and answers it again', async () => {
    const { manager } = setup();
    const { vault, created } = await manager.createOrUpdate(SUB, 'RG', 'My-Vault1', body());
    expect(created).toBe(true);
    expect(vault).toMatchObject({
      name: 'my-vault1',
      location: 'westeurope',
      vaultUri: 'https://my-vault1.vault.localhost/',
      softDeleteRetentionDays: 90,
      sku: 'standard',
    });
    expect((await manager.get(SUB, 'rg', 'my-vault1')).kmsKeyArn).toBe('arn:kms:my-vault1');
  });

  it("dates a new vault at the second its creating request began, which that request's audit record carries", async () => {
    const { manager } = setup();
    const clockNow = Math.floor(Date.parse('2026-12-01T00:00:00Z') / 1000);
    const plain = (await manager.createOrUpdate(SUB, 'RG', 'vault-now', body())).vault;
    expect(plain.created).toBe(clockNow);
    // A request that began 2.5 s ago: 2 or 3 whole seconds earlier, by where the second boundaries fell.
    const started = Date.now() - 2500;
    const early = (await manager.createOrUpdate(SUB, 'RG', 'vault-early', body(), { requestStartedAt: started })).vault;
    expect(clockNow - early.created).toBeGreaterThanOrEqual(2);
    expect(clockNow - early.created).toBeLessThanOrEqual(3);
    // A start reported after now (another host's clock) never dates the vault later than now.
    const ahead = (await manager.createOrUpdate(SUB, 'RG', 'vault-ahead', body(), { requestStartedAt: Date.now() + 5000 })).vault;
    expect(ahead.created).toBe(clockNow);
  });

  it('claims a free local endpoint and releases it at purge', async () => {
    const { manager, store } = setup(['https://127.0.0.1:9001', 'https://127.0.0.1:9002']);
    store.endpoints.set('127.0.0.1:9001', 'other');
    const { vault } = await manager.createOrUpdate(SUB, 'rg', 'vault-a', body());
    expect(vault.vaultUri).toBe('https://127.0.0.1:9002/');
    await manager.delete(SUB, 'rg', 'vault-a');
    await manager.purge(SUB, 'westeurope', 'vault-a');
    expect(store.endpoints.has('127.0.0.1:9002')).toBe(false);
  });

  it('refuses bad input with ARM codes and changes nothing', async () => {
    const { manager, store } = setup();
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', '1bad', body()))).toEqual({ status: 400, code: 'VaultNameNotValid' });
    // The management plane's host label in AWS is never a vault's.
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'Management', body()))).toEqual({ status: 409, code: 'VaultAlreadyExists' });
    expect(await manager.checkName('management')).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ softDeleteRetentionInDays: 6 })))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ softDeleteRetentionInDays: 91 })))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ enableSoftDelete: false })))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ sku: { family: 'A', name: 'gold' } })))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ tenantId: '22222222-2222-2222-2222-222222222222' })))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.createOrUpdate(SUB, 'nope', 'vault-b', body()))).toEqual({ status: 404, code: 'ResourceGroupNotFound' });
    expect(store.vaults.size).toBe(0);
    await manager.createOrUpdate(SUB, 'rg', 'vault-b', body({ enablePurgeProtection: true, softDeleteRetentionInDays: 7 }));
    const before = await store.getVault('vault-b');
    expect(await refusal(manager.update(SUB, 'rg', 'vault-b', { properties: { enablePurgeProtection: false } }))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await refusal(manager.update(SUB, 'rg', 'vault-b', { properties: { softDeleteRetentionInDays: 8 } }))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    expect(await store.getVault('vault-b')).toEqual(before);
  });

  it('soft-deletes, refuses a default create of the name, recovers, and purges after the retention of a protected vault', async () => {
    const { manager, scheduled, advance } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'vault-c', body({ enablePurgeProtection: true, softDeleteRetentionInDays: 7 }));
    expect(await manager.delete(SUB, 'rg', 'vault-c')).toBe(true);
    expect(await refusal(manager.get(SUB, 'rg', 'vault-c'))).toEqual({ status: 404, code: 'ResourceNotFound' });
    expect((await manager.listDeleted(SUB)).map((v) => v.name)).toEqual(['vault-c']);
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-c', body()))).toEqual({ status: 409, code: 'ConflictError' });
    await manager.createOrUpdate(SUB, 'rg', 'vault-c', body({ createMode: 'recover' }));
    expect((await manager.get(SUB, 'rg', 'vault-c')).deleted).toBeUndefined();
    await manager.delete(SUB, 'rg', 'vault-c');
    expect(await refusal(manager.purge(SUB, 'westeurope', 'vault-c'))).toEqual({ status: 409, code: 'Conflict' });
    advance(7 * 86_400_000 + 1);
    await manager.purge(SUB, 'West Europe', 'vault-c');
    expect(scheduled).toEqual(['arn:hsm:1', 'arn:kms:vault-c']);
    expect(await manager.checkName('vault-c')).toEqual({ nameAvailable: true });
  });

  it('another subscription cannot take or see a name', async () => {
    const { manager } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'vault-d', body());
    expect(await refusal(manager.createOrUpdate('00000000-0000-0000-0000-000000000002', 'rg', 'vault-d', body()))).toEqual({
      status: 409,
      code: 'VaultAlreadyExists',
    });
    expect(await manager.checkName('vault-d')).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
    expect(await manager.checkName('-x')).toMatchObject({ nameAvailable: false, reason: 'AccountNameInvalid' });
  });

  it('adds, replaces and removes access policies by identity', async () => {
    const { manager } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'vault-e', body());
    const who = { tenantId: TENANT, objectId: 'alice' };
    await manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'add', {
      properties: { accessPolicies: [{ ...who, permissions: { secrets: ['get'] } }] },
    });
    let vault = await manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'add', {
      properties: { accessPolicies: [{ ...who, permissions: { secrets: ['list', 'GET'], keys: ['sign'] } }] },
    });
    expect(vault.accessPolicies).toEqual([{ ...who, permissions: { secrets: ['get', 'list'], keys: ['sign'] } }]);
    vault = await manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'remove', {
      properties: { accessPolicies: [{ ...who, permissions: { secrets: ['get'] } }] },
    });
    expect(vault.accessPolicies[0]?.permissions).toEqual({ secrets: ['list'], keys: ['sign'] });
    vault = await manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'replace', {
      properties: { accessPolicies: [{ ...who, permissions: { certificates: ['get'] } }] },
    });
    expect(vault.accessPolicies).toEqual([{ ...who, permissions: { certificates: ['get'] } }]);
    vault = await manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'remove', {
      properties: { accessPolicies: [{ ...who, permissions: { certificates: ['get'] } }] },
    });
    expect(vault.accessPolicies).toEqual([]);
    expect(await refusal(manager.updateAccessPolicy(SUB, 'rg', 'vault-e', 'merge', { properties: { accessPolicies: [] } }))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
  });

  it('retries an update that lost a race on the revision', async () => {
    const { manager, store } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'vault-f', body());
    const original = store.updateVault.bind(store);
    let first = true;
    store.updateVault = async (vault, expected) => {
      if (first) {
        first = false;
        const current = store.vaults.get('vault-f')!;
        store.vaults.set('vault-f', { ...current, tags: { other: 'change' }, revision: current.revision + 1 });
        return false;
      }
      return original(vault, expected);
    };
    const vault = await manager.update(SUB, 'rg', 'vault-f', { properties: { enableRbacAuthorization: true } });
    expect(vault).toMatchObject({ enableRbacAuthorization: true, tags: { other: 'change' }, revision: 3 });
  });

  it("removes the vault's role assignments at purge, keeps them through soft delete, and leaves other vaults' alone", async () => {
    const store = new MemoryVaultStore();
    const assignments = new MemoryAccessStore();
    const revoked: string[] = [];
    const manager = new VaultManager(
      store,
      {
        scheduleKeyDeletion: async () => true,
        createVaultKey: async () => 'arn:kms:k',
        generateDataKey: async () => ({ plaintext: new Uint8Array(32), ciphertext: new Uint8Array([1]) }),
      } as never,
      {
        vaultDomain: 'vault.localhost',
        vaultEndpoints: [],
        tenantOf: () => TENANT,
        assignments,
        revoked: (p) => revoked.push(p.objectId),
      },
    );
    await manager.createOrUpdate(SUB, 'rg', 'vault-g', body());
    await manager.createOrUpdate(SUB, 'rg', 'vault-gh', body());
    const base = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults`;
    const grant = (name: string, scope: string, principalId: string) =>
      assignments.createAssignment({
        name,
        scope,
        roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/00482a5a-887f-4fb3-b363-3b7fe8e74483`,
        principalId,
        principalType: 'ServicePrincipal',
        tenantId: TENANT,
        createdOn: '',
        updatedOn: '',
        createdBy: principalId,
        updatedBy: principalId,
      });
    await grant('a1', `${base}/vault-g`, 'p-vault');
    await grant('a2', `${base}/vault-g/secrets/one`, 'p-secret');
    await grant('a3', `${base}/vault-gh`, 'p-other');
    await grant('a4', `/subscriptions/${SUB}`, 'p-sub');

    await manager.delete(SUB, 'rg', 'vault-g');
    expect(await assignments.assignmentsUnder(`${base}/vault-g`)).toHaveLength(2);
    await manager.purge(SUB, 'westeurope', 'vault-g');
    expect(await assignments.assignmentsUnder(`${base}/vault-g`)).toEqual([]);
    expect((await assignments.assignmentsUnder(`/subscriptions/${SUB}`)).map((a) => a.name).sort()).toEqual(['a3', 'a4']);
    expect(revoked.sort()).toEqual(['p-secret', 'p-vault']);
  });

  it('recovers a deleted vault only through its own resource group', async () => {
    const { manager, store } = setup();
    await manager.createOrUpdate(SUB, 'rg', 'vault-r', body());
    await manager.delete(SUB, 'rg', 'vault-r');
    expect(await refusal(manager.createOrUpdate(SUB, 'other', 'vault-r', body({ createMode: 'recover' })))).toEqual({
      status: 404,
      code: 'ResourceNotFound',
    });
    expect((await store.getVault('vault-r'))?.deleted).toBeDefined();
    const { vault } = await manager.createOrUpdate(SUB, 'RG', 'vault-r', body({ createMode: 'recover' }));
    expect(vault).toMatchObject({ resourceGroup: 'rg' });
    expect(vault.deleted).toBeUndefined();
  });

  it('keeps the endpoint of the vault that won a race to create the name', async () => {
    const { manager, store, scheduled } = setup(['https://127.0.0.1:9001', 'https://127.0.0.1:9002']);
    const outcomes = await Promise.allSettled([
      manager.createOrUpdate(SUB, 'rg', 'vault-race', body()),
      manager.createOrUpdate(SUB, 'rg', 'vault-race', body()),
    ]);
    const won = outcomes.find((o) => o.status === 'fulfilled');
    const lost = outcomes.find((o) => o.status === 'rejected');
    expect(lost?.reason).toMatchObject({ status: 409, code: 'VaultAlreadyExists' });
    const uri = (won as PromiseFulfilledResult<{ vault: Vault }>).value.vault.vaultUri;
    expect(uri).toBe('https://127.0.0.1:9001/');
    // The winner's endpoint is still claimed: the next vault takes another.
    expect(store.endpoints.get('127.0.0.1:9001')).toBe('vault-race');
    expect((await manager.createOrUpdate(SUB, 'rg', 'vault-next', body())).vault.vaultUri).toBe('https://127.0.0.1:9002/');
    expect(scheduled).toHaveLength(1);
  });

  it('releases the endpoint it claimed when the vault key cannot be made', async () => {
    const { manager, store, keys } = setup(['https://127.0.0.1:9001']);
    keys.createVaultKey = async () => {
      throw new VaultError(503, 'ServiceUnavailable', 'KMS is unavailable');
    };
    expect(await refusal(manager.createOrUpdate(SUB, 'rg', 'vault-nokey', body()))).toEqual({ status: 503, code: 'ServiceUnavailable' });
    expect(store.endpoints.size).toBe(0);
    expect(await store.getVault('vault-nokey')).toBeUndefined();
  });
});
