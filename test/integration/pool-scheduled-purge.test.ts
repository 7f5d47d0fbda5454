import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * Deleted managed HSM pools are purged by the service when their retention ends (docs/adr/0020), on the
 * running local stack: the time shift (`POST /_coffer/time` with `managedHsm`) moves one deleted pool's
 * clock past its scheduled purge date and runs the scheduled work, after which that pool (purge
 * protection on: it forbids only a caller's purge before the date) is gone from the deleted list and
 * its name is free, while a deleted pool whose clock did not move stays.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const DAY = 86_400;
const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
const due = poolName('pdue');
const kept = poolName('pkept');
let managementToken = '';

async function deletedPool(name: string, purgeProtection: boolean): Promise<void> {
  await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: {
      tenantId: info.tenantId,
      initialAdminObjectIds: [info.objectId],
      softDeleteRetentionInDays: 7,
      ...(purgeProtection ? { enablePurgeProtection: true } : {}),
    },
  });
  await pools.beginDeleteAndWait(info.resourceGroup, name);
}

async function deletedNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const pool of pools.listDeleted()) names.push(pool.name!);
  return names;
}

beforeAll(async () => {
  managementToken = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
  await Promise.all([deletedPool(due, true), deletedPool(kept, false)]);
}, 120_000);

afterAll(async () => {
  await pools.beginPurgeDeletedAndWait(kept, LOCATION).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(due, LOCATION).catch(() => undefined);
}, 60_000);

describe('the purge of deleted pools at the end of their retention', () => {
  it('refuses a time shift for a pool that does not exist, and a body naming both a vault and a pool', async () => {
    const missing = await raw('POST', '/_coffer/time', { token: managementToken, body: { managedHsm: poolName('nopool'), advanceSeconds: 60 } });
    expect(missing.status, missing.text).toBe(404);
    expect((missing.json as { error: { code: string } }).error.code).toBe('ManagedHsmNotFound');
    const both = await raw('POST', '/_coffer/time', { token: managementToken, body: { vault: 'x', managedHsm: due, advanceSeconds: 60 } });
    expect(both.status, both.text).toBe(400);
  });

  it('purges the pool whose scheduled purge date passed on its clock, protected or not, and leaves the other', async () => {
    const purgeDate = (await pools.getDeleted(due, LOCATION)).properties!.scheduledPurgeDate!;
    const caller = await pools.beginPurgeDeletedAndWait(due, LOCATION).then(
      () => 0,
      (error: { statusCode?: number }) => error.statusCode,
    );
    expect(caller).toBe(409);
    expect(await deletedNames()).toEqual(expect.arrayContaining([due, kept]));

    const shifted = await raw('POST', '/_coffer/time', { token: managementToken, body: { managedHsm: due, advanceSeconds: 7 * DAY + 60 } });
    expect(shifted.status, shifted.text).toBe(200);
    expect(shifted.json).toMatchObject({ scheduledWorkRan: true });
    expect(Date.parse((shifted.json as { time: string }).time)).toBeGreaterThan(purgeDate.getTime());

    const names = await deletedNames();
    expect(names).not.toContain(due);
    expect(names).toContain(kept);
    await expect(pools.getDeleted(due, LOCATION)).rejects.toMatchObject({ statusCode: 404 });
    expect(await pools.checkMhsmNameAvailability({ name: due })).toMatchObject({ nameAvailable: true });
    expect(await pools.checkMhsmNameAvailability({ name: kept })).toMatchObject({ nameAvailable: false });
  }, 120_000);
});
