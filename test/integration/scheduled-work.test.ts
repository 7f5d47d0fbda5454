/**
 * Scheduled work on the local stack: a fresh vault driven by the official Azure SDK through the
 * stack's gateway, its due items kept as the stream function keeps them (lib/events/schedule.ts
 * ScheduleKeeper, on DynamoDB Local), and the production scheduler (lib/runtime/scheduler.ts) run in
 * this process on the stack's DynamoDB Local and KMS, with a vault clock the test moves (the
 * composition root's ClockOffsets, as the time shift moves it). A deleted secret is purged after its
 * retention and not before; a rotation policy rotates a key once when it falls due, with two runs at
 * once.
 */
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
import { createLocalVault } from '../support/vaults.ts';

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
  keeper = new ScheduleKeeper(
    { objects: new DynamoObjectStore(dynamo, info.tables.objects), vaults: new DynamoVaultStore(dynamo, info.tables.objects) },
    new DynamoDueStore(dynamo, info.tables.objects),
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
});
