/**
 * Scheduled work on the local stack: a fresh vault driven by the official Azure SDK through the
 * stack's gateway, its due items kept as the stream function keeps them (lib/events/schedule.ts
 * ScheduleKeeper, on DynamoDB Local), and the production scheduler (lib/runtime/scheduler.ts) run in
 * this process on the stack's DynamoDB Local and KMS, with a vault clock the test moves (the
 * composition root's ClockOffsets, as the time shift moves it). A deleted secret is purged after its
 * retention and not before; a rotation policy rotates a key once when it falls due, with two runs at
 * once; NearExpiry and Expired reach the local EventBridge once each, from due items the stack's own
 * stream path wrote; a deleted vault is purged at its scheduled purge date, its due items with it.
 */
import { readFile } from 'node:fs/promises';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoObjectStore } from '../../lib/aws/dynamo-objects.ts';
import { DynamoDueStore } from '../../lib/aws/dynamo-schedule.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { ScheduleKeeper } from '../../lib/events/schedule.ts';
import type { Scheduler } from '../../lib/events/scheduler.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { schedulerOf } from '../../lib/runtime/scheduler.ts';
import { familyServices, resetServices } from '../../lib/runtime/services.ts';
import { adminSecretCredential, localStack } from '../support/local.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

const info = localStack();
const savedEnv = { ...process.env };
const DAY = 86_400;
const clientOptions = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };

/** The test's time shift: seconds ahead of real time, per vault. */
const offsets: Record<string, number> = {};
const testOffsets = {
  offsetSeconds: (vault: string) => offsets[vault.toLowerCase()] ?? 0,
  current: () => ({ ...offsets }),
};

let vaultName: string;
let secrets: SecretClient;
let keys: KeyClient;
let keeper: ScheduleKeeper;
let scheduler: Scheduler;
let dueStore: DynamoDueStore;

beforeAll(async () => {
  const vault = await createLocalVault('sched');
  vaultName = vault.name;
  secrets = new SecretClient(vault.vaultUri, adminSecretCredential(info), clientOptions);
  keys = new KeyClient(vault.vaultUri, adminSecretCredential(info), clientOptions);
  Object.assign(process.env, functionEnvironment(info));
  resetConfig();
  resetServices();
  const env = functionEnvironment(info);
  const dynamo = dynamoDocumentClient(env.AWS_REGION!);
  dueStore = new DynamoDueStore(dynamo, info.tables.objects);
  keeper = new ScheduleKeeper(
    { objects: new DynamoObjectStore(dynamo, info.tables.objects), vaults: new DynamoVaultStore(dynamo, info.tables.objects) },
    dueStore,
  );
  scheduler = familyServices((shared) => schedulerOf(shared, testOffsets))();
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
  resetServices();
});

/** Moves the vault's clock to `seconds` ahead of real time. */
function shiftTo(seconds: number): void {
  offsets[vaultName.toLowerCase()] = seconds;
}

describe('scheduled work through the local stack', () => {
  it('purges a deleted secret after its retention and not before', async () => {
    shiftTo(0);
    await secrets.setSecret('purge-me', 'value');
    await (await secrets.beginDeleteSecret('purge-me')).pollUntilDone();
    const deleted = await secrets.getDeletedSecret('purge-me');
    const retention = Math.round((deleted.properties.scheduledPurgeDate!.getTime() - deleted.properties.deletedOn!.getTime()) / 1000);
    expect(retention).toBe(90 * DAY);
    // What the stream function does on the deleted head's insert.
    await keeper.keep({ type: 'object', vault: vaultName, collection: 'secrets', name: 'purge-me' });

    shiftTo(retention - 120);
    await scheduler.run();
    expect((await secrets.getDeletedSecret('purge-me')).name).toBe('purge-me');

    shiftTo(retention + 5);
    await scheduler.run();
    await expect(secrets.getDeletedSecret('purge-me')).rejects.toMatchObject({ statusCode: 404 });
    // The name is free again.
    await secrets.setSecret('purge-me', 'again');
    expect((await secrets.getSecret('purge-me')).value).toBe('again');
  });

  it('rotates a key once when its rotation policy says, with two runs at once', async () => {
    shiftTo(0);
    const created = await keys.createEcKey('rotate-me', { curve: 'P-256' });
    await keys.updateKeyRotationPolicy('rotate-me', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }], expiresIn: 'P90D' });
    // What the stream function does on the policy's write.
    await keeper.keep({ type: 'object', vault: vaultName, collection: 'keys', name: 'rotate-me' });
    const versions = async () => {
      const found: string[] = [];
      for await (const properties of keys.listPropertiesOfKeyVersions('rotate-me')) found.push(properties.version!);
      return found;
    };

    shiftTo(30 * DAY - 120);
    await scheduler.run();
    expect(await versions()).toEqual([created.properties.version]);

    shiftTo(30 * DAY + 5);
    await Promise.all([scheduler.run(), scheduler.run()]);
    await scheduler.run();
    const after = await versions();
    expect(after).toHaveLength(2);
    const current = await keys.getKey('rotate-me');
    expect(current.properties.version).not.toBe(created.properties.version);
    // expiryTime applied to the rotated version, in the vault's time.
    const expectedExp = created.properties.createdOn!.getTime() / 1000 + 30 * DAY + 90 * DAY;
    expect(Math.abs(current.properties.expiresOn!.getTime() / 1000 - expectedExp)).toBeLessThan(120);
    // The rotated key still signs: it is a whole new version, not a copy of the old one.
    expect(current.key?.crv).toBe('P-256');

    // The stream sees the new version: the next rotation is 30 days after it, not now.
    await keeper.keep({ type: 'object', vault: vaultName, collection: 'keys', name: 'rotate-me' });
    shiftTo(30 * DAY + 600);
    await scheduler.run();
    expect(await versions()).toHaveLength(2);
  });

  it('publishes NearExpiry and Expired once each, from the due items the stack\u2019s stream path wrote', async () => {
    shiftTo(0);
    const exp = Math.floor(Date.now() / 1000) + 40 * DAY;
    await secrets.setSecret('expiring', 'value', { expiresOn: new Date(exp * 1000) });
    // No keeper here: the gateway's stream reader hands the head's write to the stream function.
    const deadline = Date.now() + 20_000;
    while (!(await dueStore.get(vaultName, 'secrets#expiring#expired')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await dueStore.get(vaultName, 'secrets#expiring#expired')).toMatchObject({ dueAt: exp, done: false });
    expect(await dueStore.get(vaultName, 'secrets#expiring#nearexpiry')).toMatchObject({ dueAt: exp - 30 * DAY });

    const puts = async (type: string) => {
      const lines = (await readFile(info.eventsLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      return lines
        .map((line) => JSON.parse(line) as { kind: string; 'detail-type': string; subject?: string; detailId: string; resources: string[] })
        .filter((line) => line.kind === 'put' && line['detail-type'] === `Microsoft.KeyVault.${type}` && line.subject === 'expiring')
        .filter((line) => line.resources.some((r) => r.toLowerCase().endsWith(`/vaults/${vaultName.toLowerCase()}`)));
    };

    shiftTo(10 * DAY - 120);
    await scheduler.run();
    expect(await puts('SecretNearExpiry')).toEqual([]);
    shiftTo(10 * DAY + 5);
    await Promise.all([scheduler.run(), scheduler.run()]);
    await scheduler.run();
    const near = await puts('SecretNearExpiry');
    expect(near).toHaveLength(1);
    expect(await puts('SecretExpired')).toEqual([]);

    shiftTo(40 * DAY + 5);
    await Promise.all([scheduler.run(), scheduler.run()]);
    await scheduler.run();
    const expired = await puts('SecretExpired');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.detailId).not.toBe(near[0]!.detailId);
    expect(await puts('SecretNearExpiry')).toHaveLength(1);
    expect(await dueStore.get(vaultName, 'secrets#expiring#expired')).toMatchObject({ done: true });
  });

  it('purges a deleted vault at its scheduled purge date and not before, its due items with it', async () => {
    const other = await createLocalVault('schedvlt');
    const otherSecrets = new SecretClient(other.vaultUri, adminSecretCredential(info), clientOptions);
    await otherSecrets.setSecret('inside', 'value', { expiresOn: new Date(Date.now() + 400 * DAY * 1000) });
    const { vaults } = managementClients(info);
    await vaults.vaults.delete(info.resourceGroup, other.name);
    const deleted = await vaults.vaults.getDeleted(other.name, 'eastus');
    const purgeAt = Math.floor(deleted.properties!.scheduledPurgeDate!.getTime() / 1000);
    // The gateway's stream reader schedules the purge from the vault record's change (and the secret's expiry from its head).
    const deadline = Date.now() + 20_000;
    // Two items, two stream records, possibly in two shards: wait for both.
    const scheduled = async () => (await dueStore.get(other.name, 'vault#purge')) && (await dueStore.get(other.name, 'secrets#inside#expired'));
    while (!(await scheduled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await dueStore.get(other.name, 'vault#purge')).toMatchObject({ dueAt: purgeAt, done: false });
    expect(await dueStore.get(other.name, 'secrets#inside#expired')).toBeDefined();

    const ahead = purgeAt - Math.floor(Date.now() / 1000);
    offsets[other.name.toLowerCase()] = ahead - 120;
    await scheduler.run();
    expect((await vaults.vaults.getDeleted(other.name, 'eastus')).name).toBe(other.name);

    offsets[other.name.toLowerCase()] = ahead + 5;
    await scheduler.run();
    await expect(vaults.vaults.getDeleted(other.name, 'eastus')).rejects.toMatchObject({ statusCode: 404 });
    expect(await dueStore.get(other.name, 'vault#purge')).toBeUndefined();
    expect(await dueStore.get(other.name, 'secrets#inside#expired')).toBeUndefined();
  });
});
