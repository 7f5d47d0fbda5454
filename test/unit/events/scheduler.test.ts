/**
 * Scheduled work over the memory stores: what the rules schedule, and the scheduler doing it once,
 * at its time and not before, skipping work the state moved past, with two runs at once.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { scheduleTargetsOf } from '../../../lib/aws/dynamo-stream.ts';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { LIFETIME } from '../../../lib/certificates/base.ts';
import type { EventGridEvent } from '../../../lib/events/events.ts';
import { MemoryDueStore } from '../../../lib/events/memory-schedule.ts';
import { ServiceActions } from '../../../lib/events/scheduled-actions.ts';
import {
  LIFETIME_ATTACHMENT,
  objectSchedule,
  ROTATION_POLICY_ATTACHMENT,
  rotationDue,
  ScheduleKeeper,
  type ScheduleTarget,
  vaultSchedule,
} from '../../../lib/events/schedule.ts';
import { Scheduler } from '../../../lib/events/scheduler.ts';
import type { HsmKeys } from '../../../lib/keys/hsm.ts';
import { KeyService } from '../../../lib/keys/keys.ts';
import { ROTATION_POLICY } from '../../../lib/keys/layout.ts';
import { SecretService } from '../../../lib/secrets/secrets.ts';
import type { Vault } from '../../../lib/vaults/vault.ts';
import { addressOf, domainParts, testClock, testVault } from '../../support/domain.ts';

const DAY = 86_400;
const T0 = 1_700_000_000;

describe('the schedule rules', () => {
  const head = (exp?: number, over: object = {}) => ({
    name: 'Db',
    latest: 'v1',
    attributes: { enabled: true, created: T0, updated: T0, ...(exp !== undefined ? { exp } : {}) },
    plain: {},
    ...over,
  });

  it('names the attachments the key and certificate domains store', () => {
    expect(ROTATION_POLICY_ATTACHMENT).toBe(ROTATION_POLICY);
    expect(LIFETIME_ATTACHMENT).toBe(LIFETIME);
  });

  it('schedules NearExpiry 30 days before exp (not before creation) and Expired at exp, for the current version', () => {
    const items = objectSchedule('v', { collection: 'secrets', name: 'DB', head: head(T0 + 90 * DAY) });
    expect(items.map((i) => [i.slot, i.dueAt])).toEqual([
      ['secrets#db#nearexpiry', T0 + 60 * DAY],
      ['secrets#db#expired', T0 + 90 * DAY],
    ]);
    expect(items[1]!.work).toEqual({ kind: 'expiry', moment: 'Expired', collection: 'secrets', name: 'Db', version: 'v1', exp: T0 + 90 * DAY });
    expect(objectSchedule('v', { collection: 'secrets', name: 'db', head: head(T0 + DAY) })[0]!.dueAt).toBe(T0);
    expect(objectSchedule('v', { collection: 'secrets', name: 'db', head: head() })).toEqual([]);
    // A certificate's managed secret has no work of its own.
    expect(objectSchedule('v', { collection: 'secrets', name: 'db', head: head(T0 + DAY, { plain: { managed: true } }) })).toEqual([]);
  });

  it('takes a key Notify action as its NearExpiry and schedules its rotation from the policy', () => {
    const policy = {
      lifetimeActions: [
        { trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate' as const } },
        { trigger: { timeBeforeExpiry: 'P10D' }, action: { type: 'Notify' as const } },
      ],
      attributes: { expiryTime: 'P90D' },
    };
    const items = objectSchedule('v', { collection: 'keys', name: 'k', head: head(T0 + 90 * DAY), rotationPolicy: policy });
    expect(Object.fromEntries(items.map((i) => [i.slot, i.dueAt]))).toEqual({
      'keys#k#nearexpiry': T0 + 80 * DAY,
      'keys#k#expired': T0 + 90 * DAY,
      'keys#k#rotate': T0 + 30 * DAY,
    });
    const beforeExpiry = { ...policy, lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P7D' }, action: { type: 'Rotate' as const } }] };
    expect(rotationDue(beforeExpiry, T0, T0 + 90 * DAY)).toBe(T0 + 83 * DAY);
    expect(rotationDue(beforeExpiry, T0, undefined)).toBeUndefined();
    expect(rotationDue(undefined, T0, T0 + DAY)).toBeUndefined();
  });

  it('renews a certificate on AutoRenew and notifies on EmailContacts, for the current version only', () => {
    const renew = objectSchedule('v', {
      collection: 'certificates',
      name: 'web',
      head: head(T0 + 365 * DAY),
      lifetime: { version: 'v1', actionType: 'AutoRenew', due: T0 + 300 * DAY },
    });
    expect(renew.find((i) => i.slot === 'certificates#web#renew')).toMatchObject({ dueAt: T0 + 300 * DAY, work: { kind: 'renew', version: 'v1' } });
    const notify = objectSchedule('v', {
      collection: 'certificates',
      name: 'web',
      head: head(T0 + 365 * DAY),
      lifetime: { version: 'v1', actionType: 'EmailContacts', due: T0 + 320 * DAY },
    });
    expect(notify.map((i) => [i.slot, i.dueAt])).toEqual([
      ['certificates#web#nearexpiry', T0 + 320 * DAY],
      ['certificates#web#expired', T0 + 365 * DAY],
    ]);
    const old = objectSchedule('v', {
      collection: 'certificates',
      name: 'web',
      head: head(T0),
      lifetime: { version: 'v0', actionType: 'AutoRenew', due: T0 },
    });
    expect(old.some((i) => i.slot.endsWith('renew'))).toBe(false);
  });

  it('purges a deleted object and a deleted vault at their scheduled purge dates', () => {
    const deleted = { name: 'Db', scheduledPurgeDate: T0 + 7 * DAY, plain: {} };
    expect(objectSchedule('v', { collection: 'secrets', name: 'db', deleted })).toEqual([
      {
        vault: 'v',
        slot: 'secrets#db#purge',
        dueAt: T0 + 7 * DAY,
        work: { kind: 'purge', collection: 'secrets', name: 'Db', scheduledPurgeDate: T0 + 7 * DAY },
      },
    ]);
    const purgeDate = new Date((T0 + 90 * DAY) * 1000).toISOString();
    expect(vaultSchedule({ name: 'v', deleted: { deletionDate: purgeDate, scheduledPurgeDate: purgeDate } })).toEqual([
      { vault: 'v', slot: 'vault#purge', dueAt: T0 + 90 * DAY, work: { kind: 'purgeVault', scheduledPurgeDate: T0 + 90 * DAY } },
    ]);
    expect(vaultSchedule({ name: 'v' })).toEqual([]);
  });
});

describe('the stream records that move the schedule', () => {
  let sequence = 0;
  function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', keys: { pk: string; sk: string }, image: object = {}): DynamoDBRecord {
    sequence += 1;
    return {
      eventName,
      dynamodb: { Keys: marshall(keys) as never, NewImage: marshall({ ...keys, ...image }) as never, SequenceNumber: String(sequence) },
    };
  }

  it('reads heads, deleted heads, the rotation policy, the lifetime action and vault records; nothing else', () => {
    const targets = scheduleTargetsOf([
      record('MODIFY', { pk: 'sv#secrets', sk: 'db' }),
      record('INSERT', { pk: 'sv#deletedkeys', sk: 'k' }),
      record('REMOVE', { pk: 'sv#deletedcertificates', sk: 'web' }),
      record('INSERT', { pk: 'sv#keys-attachments#k', sk: 'rotationpolicy' }),
      record('INSERT', { pk: 'sv#certificates-attachments#web', sk: 'lifetime' }),
      record('INSERT', { pk: 'sv#certificates-attachments#web', sk: 'policy' }),
      record('INSERT', { pk: 'sv#secrets#db', sk: 'a'.repeat(32) }),
      record('INSERT', { pk: 'sv#schedule', sk: 'secrets#db#expired' }),
      record('INSERT', { pk: 'sv#certificate-issuers', sk: 'i' }),
      record('MODIFY', { pk: 'VAULT#sv', sk: 'VAULT' }, { name: 'sv' }),
    ]);
    expect(targets.map((t) => t.target)).toEqual<ScheduleTarget[]>([
      { type: 'object', vault: 'sv', collection: 'secrets', name: 'db' },
      { type: 'object', vault: 'sv', collection: 'keys', name: 'k' },
      { type: 'object', vault: 'sv', collection: 'certificates', name: 'web' },
      { type: 'object', vault: 'sv', collection: 'keys', name: 'k' },
      { type: 'object', vault: 'sv', collection: 'certificates', name: 'web' },
      { type: 'vault', vault: 'sv' },
    ]);
  });
});

describe('the schedule keeper', () => {
  it('keeps each object once per batch and answers the changes whose due items were not written', async () => {
    const parts = domainParts();
    const writes: string[] = [];
    const store = new MemoryDueStore();
    const failing = Object.assign(Object.create(store) as MemoryDueStore, {
      replace: async (vault: string, prefix: string, items: never[]) => {
        writes.push(prefix);
        if (prefix.startsWith('keys#')) throw new Error('throttled');
        return store.replace(vault, prefix, items);
      },
    });
    const reported: unknown[] = [];
    const keeper = new ScheduleKeeper({ objects: parts.store, vaults: { getVault: async () => undefined } }, failing);
    const failed = await keeper.keepAll(
      [
        { type: 'object', vault: 'v', collection: 'secrets', name: 'a' },
        { type: 'object', vault: 'v', collection: 'keys', name: 'k' },
        { type: 'object', vault: 'v', collection: 'secrets', name: 'A' },
        { type: 'object', vault: 'v', collection: 'keys', name: 'k' },
        { type: 'vault', vault: 'v' },
      ],
      (error) => reported.push(error),
    );
    expect(failed).toEqual([1, 3]);
    expect(writes).toEqual(['secrets#a#', 'keys#k#', 'vault#purge']);
    expect(reported).toHaveLength(1);
  });
});

/** Every call refused: software keys never reach the HSM port. */
const noHsm = new Proxy({} as HsmKeys, {
  get: () => async () => {
    throw new Error('the HSM port was called for a software key');
  },
});

describe('the scheduler', () => {
  let clock: ReturnType<typeof testClock>;
  let parts: ReturnType<typeof domainParts>;
  let vault: Vault;
  let vaults: Map<string, Vault>;
  let due: MemoryDueStore;
  let keeper: ScheduleKeeper;
  let secrets: SecretService;
  let keys: KeyService;
  let published: EventGridEvent[];
  let audit: AuditRecord[];
  let purgedVaults: string[];
  let failPublishing: boolean;

  function scheduler() {
    const sources = { objects: parts.store, vaults: { getVault: async (name: string) => vaults.get(name) } };
    return new Scheduler(
      due,
      sources,
      new ServiceActions({
        secrets,
        keys,
        certificates: { purge: async () => undefined },
        issuance: { create: async () => ({}) as never },
        vaults: {
          purge: async (_subscription, _location, name) => {
            purgedVaults.push(name);
            vaults.delete(name);
          },
        },
      }),
      {
        publish: async (events) => {
          if (failPublishing) return { failed: events };
          published.push(...events);
          return { failed: [] };
        },
      },
      { write: async (record) => void audit.push(record) },
      { vault: () => clock.now(), real: () => clock.now(), lookahead: () => 0 },
    );
  }

  /** What the stream function does after each write. */
  const keep = (collection: 'secrets' | 'keys', name: string) => keeper.keep({ type: 'object', vault: vault.name, collection, name });

  beforeEach(() => {
    clock = testClock(T0);
    parts = domainParts();
    vault = testVault({ name: 'schedvault', softDeleteRetentionDays: 7 });
    vaults = new Map([[vault.name, vault]]);
    due = new MemoryDueStore();
    keeper = new ScheduleKeeper({ objects: parts.store, vaults: { getVault: async (name) => vaults.get(name) } }, due);
    secrets = new SecretService(parts.store, parts.sealer, parts.backups, clock.now);
    keys = new KeyService(parts.store, parts.sealer, parts.backups, noHsm, () => undefined, {}, clock.now);
    published = [];
    audit = [];
    purgedVaults = [];
    failPublishing = false;
  });

  it('publishes NearExpiry and Expired once each, at their times and not before', async () => {
    const set = await secrets.set(addressOf(vault), 'Db', { value: 'x', attributes: { exp: T0 + 40 * DAY } });
    await keep('secrets', 'Db');
    await scheduler().run();
    expect(published).toEqual([]);
    clock.advance(10 * DAY);
    await scheduler().run();
    await scheduler().run();
    expect(published.map((e) => e.eventType)).toEqual(['Microsoft.KeyVault.SecretNearExpiry']);
    expect(published[0]).toMatchObject({ subject: 'Db', data: { Version: set.version, EXP: T0 + 40 * DAY, ObjectType: 'Secret' } });
    // The stream handling the same state again schedules nothing new.
    await keep('secrets', 'Db');
    clock.advance(30 * DAY);
    await Promise.all([scheduler().run(), scheduler().run()]);
    await scheduler().run();
    expect(published.map((e) => e.eventType)).toEqual(['Microsoft.KeyVault.SecretNearExpiry', 'Microsoft.KeyVault.SecretExpired']);
    expect(audit.map((r) => [r.operationName, r.resultType, r.identity?.upn])).toEqual([
      ['ScheduledSecretNearExpiryEvent', 'Success', 'coffer-scheduler'],
      ['ScheduledSecretExpiredEvent', 'Success', 'coffer-scheduler'],
    ]);
  });

  it('keeps an event whose publishing failed, and publishes it with the same id later', async () => {
    await secrets.set(addressOf(vault), 'Db', { value: 'x', attributes: { exp: T0 + DAY } });
    await keep('secrets', 'Db');
    clock.advance(2 * DAY);
    failPublishing = true;
    expect(await scheduler().run()).toMatchObject({ failed: 2 });
    failPublishing = false;
    clock.advance(600);
    await scheduler().run();
    expect(published.map((e) => e.eventType).sort()).toEqual(['Microsoft.KeyVault.SecretExpired', 'Microsoft.KeyVault.SecretNearExpiry']);
    expect(audit.filter((r) => r.resultType === 'Failure')).toHaveLength(2);
  });

  it('skips work the state moved past: a new version with another exp gets its own events, the old ones none', async () => {
    await secrets.set(addressOf(vault), 'Db', { value: 'x', attributes: { exp: T0 + DAY } });
    await keep('secrets', 'Db');
    // A second version lands, but the stream has not handled it yet when the scheduler runs.
    const second = await secrets.set(addressOf(vault), 'Db', { value: 'y', attributes: { exp: T0 + 100 * DAY } });
    clock.advance(2 * DAY);
    // The first stale item found schedules the object's work anew, its sibling with it.
    expect(await scheduler().run()).toMatchObject({ done: 0, stale: 1 });
    expect(published).toEqual([]);
    clock.advance(70 * DAY);
    await scheduler().run();
    expect(published.map((e) => [e.eventType, 'Version' in e.data ? e.data.Version : undefined])).toEqual([
      ['Microsoft.KeyVault.SecretNearExpiry', second.version],
    ]);
  });

  it('purges a deleted secret after its retention and not before, purge protection or not', async () => {
    vault = { ...vault, purgeProtection: true };
    vaults.set(vault.name, vault);
    await secrets.set(addressOf(vault), 'Db', { value: 'x' });
    await secrets.delete(addressOf(vault), 'Db');
    await keep('secrets', 'Db');
    clock.advance(7 * DAY - 1);
    await scheduler().run();
    expect(await secrets.getDeleted(addressOf(vault), 'Db')).toMatchObject({ name: 'Db' });
    clock.advance(1);
    await scheduler().run();
    expect(await parts.store.getDeleted(vault.name, 'secrets', 'Db')).toBeUndefined();
    expect(audit.map((r) => [r.operationName, r.resultType])).toEqual([['ScheduledSecretPurge', 'Success']]);
    await keep('secrets', 'Db');
    expect(await due.due(0, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('does not purge a secret recovered before its purge date', async () => {
    await secrets.set(addressOf(vault), 'Db', { value: 'x' });
    await secrets.delete(addressOf(vault), 'Db');
    await keep('secrets', 'Db');
    await secrets.recover(addressOf(vault), 'Db');
    clock.advance(8 * DAY);
    expect(await scheduler().run()).toMatchObject({ done: 0, stale: 1 });
    expect(await secrets.get(addressOf(vault), 'Db', undefined)).toMatchObject({ name: 'Db' });
  });

  it('rotates a key once when its policy says, with two runs at once, and schedules the next rotation', async () => {
    const at = addressOf(vault);
    const first = await keys.create(at, 'Signer', { kty: 'EC', crv: 'P-256' });
    await keys.setRotationPolicy(at, 'Signer', {
      lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P90D' },
    });
    await keep('keys', 'Signer');
    clock.advance(30 * DAY - 1);
    await scheduler().run();
    expect((await keys.listVersions(at, 'Signer', 25)).items).toHaveLength(1);
    clock.advance(1);
    await Promise.all([scheduler().run(), scheduler().run(), scheduler().run()]);
    await scheduler().run();
    const versions = (await keys.listVersions(at, 'Signer', 25)).items;
    expect(versions).toHaveLength(2);
    const rotated = await keys.get(at, 'Signer', undefined);
    expect(rotated.version).not.toBe(first.version);
    expect(rotated.attributes.exp).toBe(T0 + 30 * DAY + 90 * DAY);
    expect(audit.map((r) => [r.operationName, r.id])).toEqual([['ScheduledKeyRotate', `${vault.vaultUri}keys/Signer/${rotated.version}`]]);
    // The stream sees the new version: the next rotation is 30 days after it.
    await keep('keys', 'Signer');
    clock.advance(30 * DAY);
    await scheduler().run();
    expect((await keys.listVersions(at, 'Signer', 25)).items).toHaveLength(3);
  });

  it('lets the work of a deleted vault wait, and purges the vault at its date', async () => {
    await secrets.set(addressOf(vault), 'Db', { value: 'x', attributes: { exp: T0 + DAY } });
    await keep('secrets', 'Db');
    const purgeAt = T0 + 90 * DAY;
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
    vault = { ...vault, deleted: { deletionDate: iso(T0), scheduledPurgeDate: iso(purgeAt) } };
    vaults.set(vault.name, vault);
    await keeper.keep({ type: 'vault', vault: vault.name });
    clock.advance(2 * DAY);
    await scheduler().run();
    expect(published).toEqual([]);
    clock.advance(purgeAt - clock.now() - 1);
    await scheduler().run();
    expect(purgedVaults).toEqual([]);
    clock.advance(1);
    await scheduler().run();
    expect(purgedVaults).toEqual([vault.name]);
    expect(published).toEqual([]);
    expect(audit.map((r) => r.operationName)).toEqual(['ScheduledVaultPurge']);
  });
});
