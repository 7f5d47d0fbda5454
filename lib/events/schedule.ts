import { durationSeconds } from '../core/durations.ts';
import type { Collection } from '../core/kinds.ts';
import type { RotationPolicy } from '../keys/rotation.ts';
import type { DeletedHead, ObjectStore, StoredHead } from '../objects/store.ts';
import type { Vault, VaultStore } from '../vaults/vault.ts';
import { dateEventsDue, NEAR_EXPIRY_SECONDS } from './events.ts';

/**
 * Scheduled work (issue #14): what falls due for an object or a vault, derived from its committed
 * state. The stream function recomputes an object's due items whenever one of its items changes
 * (lib/runtime/events.ts), the scheduler re-derives them at fire time to check an item is still due
 * (lib/events/scheduler.ts): one rule for both, so an item whose state moved on is never acted on.
 *
 * Dates are Unix seconds in the vault's time (lib/core/clock.ts VaultClock).
 */
export type DueWork =
  /** NearExpiry and Expired of the current version (reference §7): an event, once. */
  | { kind: 'expiry'; moment: 'NearExpiry' | 'Expired'; collection: Collection; name: string; version: string; exp: number; nbf?: number }
  /** A key's rotation policy's Rotate action, for the key's current version. */
  | { kind: 'rotate'; name: string; version: string }
  /** A certificate's AutoRenew lifetime action, for its current version. */
  | { kind: 'renew'; name: string; version: string }
  /** A deleted object's purge at the end of its retention. */
  | { kind: 'purge'; collection: Collection; name: string; scheduledPurgeDate: number }
  /** A deleted vault's purge at the end of its retention. */
  | { kind: 'purgeVault'; scheduledPurgeDate: number };

export interface DueItem {
  vault: string;
  /**
   * Which of the vault's work this is: one slot per object and kind of work (`secrets#db#expired`),
   * so an object's next version replaces its previous version's item instead of adding one.
   */
  slot: string;
  /** When it falls due, Unix seconds in the vault's time. */
  dueAt: number;
  work: DueWork;
}

/** The item as stored: `fingerprint` tells one piece of work from the next one in the same slot. */
export interface StoredDueItem extends DueItem {
  fingerprint: string;
  /** Done: kept (out of the due index) so that recomputing the same work does not schedule it again. */
  done: boolean;
  /** A scheduler run holds the item until then (real Unix seconds): the others leave it alone. */
  leaseUntil?: number;
}

/** The due index's fixed partitions: a few, so the scheduler's Queries stay few and no partition runs hot. */
export const DUE_SHARDS = 4;

/** What an object's schedule is derived from: its live head or its deleted head, and its attachments. */
export interface ObjectState {
  collection: Collection;
  /** The name as stored (lowercased or not: slots lowercase it). */
  name: string;
  head?: Pick<StoredHead, 'name' | 'latest' | 'attributes' | 'plain'>;
  deleted?: Pick<DeletedHead, 'name' | 'scheduledPurgeDate' | 'plain'>;
  /** A key's rotation policy (lib/keys/rotation.ts), as the key's `rotationpolicy` attachment stores it. */
  rotationPolicy?: RotationPolicy;
  /** A certificate's lifetime action, as its `lifetime` attachment stores it (lib/certificates/issuance.ts). */
  lifetime?: CertificateLifetime;
}

export interface CertificateLifetime {
  version: string;
  actionType: string;
  due: number;
}

/** The attachments the schedule reads: lib/keys/layout.ts ROTATION_POLICY and lib/certificates/base.ts LIFETIME (a unit test holds them equal). */
export const ROTATION_POLICY_ATTACHMENT = 'rotationpolicy';
export const LIFETIME_ATTACHMENT = 'lifetime';

/** The slots of one object share this prefix, so its items are found (and replaced) together. */
export function objectSlotPrefix(collection: Collection, name: string): string {
  return `${collection}#${name.toLowerCase()}#`;
}

const VAULT_PURGE_SLOT = 'vault#purge';

/**
 * The work due for one object. A deleted object has only its purge; a live one its current version's
 * NearExpiry and Expired, a key its rotation, a certificate its renewal. The key and secret of a
 * certificate (managed) have none of their own: the certificate's events and purge cover them.
 */
export function objectSchedule(vault: string, state: ObjectState): DueItem[] {
  const prefix = objectSlotPrefix(state.collection, state.name);
  if (state.deleted) {
    if (state.deleted.plain.managed === true) return [];
    const scheduledPurgeDate = state.deleted.scheduledPurgeDate;
    return [
      {
        vault,
        slot: `${prefix}purge`,
        dueAt: scheduledPurgeDate,
        work: { kind: 'purge', collection: state.collection, name: state.deleted.name, scheduledPurgeDate },
      },
    ];
  }
  const head = state.head;
  if (!head || head.plain.managed === true) return [];
  const items: DueItem[] = [];
  const { exp, nbf, created } = head.attributes;
  const nearExpiry = nearExpiryOf(state, exp, created);
  for (const { moment: dateMoment, due } of dateEventsDue(exp, created)) {
    const moment = dateMoment === 'NearExpiry' ? 'NearExpiry' : 'Expired';
    items.push({
      vault,
      slot: `${prefix}${moment.toLowerCase()}`,
      dueAt: moment === 'NearExpiry' ? (nearExpiry ?? due) : due,
      work: {
        kind: 'expiry',
        moment,
        collection: state.collection,
        name: head.name,
        version: head.latest,
        exp: exp!,
        ...(nbf !== undefined ? { nbf } : {}),
      },
    });
  }
  const rotateAt = state.collection === 'keys' ? rotationDue(state.rotationPolicy, created, exp) : undefined;
  if (rotateAt !== undefined) {
    items.push({ vault, slot: `${prefix}rotate`, dueAt: rotateAt, work: { kind: 'rotate', name: head.name, version: head.latest } });
  }
  const lifetime = state.collection === 'certificates' ? state.lifetime : undefined;
  if (lifetime?.version === head.latest && lifetime.actionType === 'AutoRenew') {
    items.push({ vault, slot: `${prefix}renew`, dueAt: lifetime.due, work: { kind: 'renew', name: head.name, version: head.latest } });
  }
  return items;
}

/**
 * NearExpiry's time when a policy names it: a key's Notify action (timeBeforeExpiry; the service's
 * default is P30D), a certificate's EmailContacts lifetime action of its current version. Never
 * before the version was made.
 */
function nearExpiryOf(state: ObjectState, exp: number | undefined, created: number): number | undefined {
  if (exp === undefined) return undefined;
  if (state.collection === 'keys') {
    const notify = state.rotationPolicy?.lifetimeActions.find((a) => a.action.type === 'Notify')?.trigger.timeBeforeExpiry;
    const seconds = notify !== undefined ? durationSeconds(notify) : undefined;
    return Math.max(exp - (seconds ?? NEAR_EXPIRY_SECONDS), created);
  }
  if (state.collection === 'certificates' && state.lifetime?.version === state.head?.latest && state.lifetime?.actionType === 'EmailContacts') {
    return Math.max(state.lifetime.due, created);
  }
  return undefined;
}

/** When a rotation policy's Rotate action falls due for a version made at `created`, expiring at `exp`. */
export function rotationDue(policy: RotationPolicy | undefined, created: number, exp: number | undefined): number | undefined {
  const trigger = policy?.lifetimeActions.find((a) => a.action.type === 'Rotate')?.trigger;
  if (!trigger) return undefined;
  if (trigger.timeAfterCreate !== undefined) {
    const seconds = durationSeconds(trigger.timeAfterCreate);
    return seconds === undefined ? undefined : created + seconds;
  }
  if (trigger.timeBeforeExpiry !== undefined && exp !== undefined) {
    const seconds = durationSeconds(trigger.timeBeforeExpiry);
    return seconds === undefined ? undefined : Math.max(exp - seconds, created);
  }
  return undefined;
}

/** A deleted vault's purge at its scheduled purge date; nothing for a live one. */
export function vaultSchedule(vault: Pick<Vault, 'name' | 'deleted'>): DueItem[] {
  if (!vault.deleted) return [];
  const scheduledPurgeDate = Math.floor(Date.parse(vault.deleted.scheduledPurgeDate) / 1000);
  if (!Number.isFinite(scheduledPurgeDate)) return [];
  return [{ vault: vault.name, slot: VAULT_PURGE_SLOT, dueAt: scheduledPurgeDate, work: { kind: 'purgeVault', scheduledPurgeDate } }];
}

/** What tells this work from the next work in its slot: the work itself and its time. */
export function fingerprintOf(item: DueItem): string {
  return JSON.stringify([item.dueAt, item.work]);
}

/** The shard an item's slot lands in: fixed per slot, so an item moves within its shard only. */
export function shardOf(vault: string, slot: string): number {
  let hash = 0;
  for (const char of `${vault.toLowerCase()}#${slot}`) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % DUE_SHARDS;
}

/** A due item's address and time: what the due index answers, and where its next page starts. */
export interface DueKey {
  vault: string;
  slot: string;
  dueAt: number;
}

/**
 * Where due items live: in the vault's own partition of the objects table (so a vault's purge
 * removes them), found through the sparse due index (lib/aws/dynamo-schedule.ts); in memory for
 * tests (lib/events/memory-schedule.ts). test/contract/due-store.contract.ts holds both to this.
 */
export interface DueStore {
  /**
   * Makes these the items of the slots under `prefix` (one object's, or the vault's own): new work is
   * written, an item holding the same work (done or not) is kept as it is, and the prefix's other
   * items are removed.
   */
  replace(vault: string, prefix: string, items: DueItem[]): Promise<void>;
  /**
   * Up to `limit` items of one shard due at or before `until`, earliest first, after `after` (the
   * last key of the previous page) when given; done items never.
   */
  due(shard: number, until: number, limit: number, after?: DueKey): Promise<DueKey[]>;
  get(vault: string, slot: string): Promise<StoredDueItem | undefined>;
  /**
   * Takes the item for one run until `leaseUntil` (real seconds): false when it holds other work by
   * now, is done, or another run holds it (its lease has not passed `now`).
   */
  claim(item: StoredDueItem, now: number, leaseUntil: number): Promise<boolean>;
  /** Marks the work done (out of the due index), if the slot still holds it; false if not. */
  complete(item: StoredDueItem): Promise<boolean>;
  /** Moves the work's time (a deleted vault's objects wait), releasing the lease, if the slot still holds it. */
  defer(item: StoredDueItem, dueAt: number): Promise<boolean>;
}

/** What a committed change asks the schedule to look at again: one object, or a vault's own record. */
export type ScheduleTarget = { type: 'object'; vault: string; collection: Collection; name: string } | { type: 'vault'; vault: string };

/** The state the schedule is derived from: the objects' heads and attachments, and the vault records. */
export interface ScheduleSources {
  objects: Pick<ObjectStore, 'getHead' | 'getDeleted' | 'getAttachment'>;
  vaults: Pick<VaultStore, 'getVault'>;
}

/** An object's current state, as the schedule reads it. */
export async function readObjectState(
  objects: ScheduleSources['objects'],
  vault: string,
  collection: Collection,
  name: string,
): Promise<ObjectState> {
  const [head, deleted] = await Promise.all([objects.getHead(vault, collection, name), objects.getDeleted(vault, collection, name)]);
  const attachment =
    head && collection === 'keys' ? ROTATION_POLICY_ATTACHMENT : head && collection === 'certificates' ? LIFETIME_ATTACHMENT : undefined;
  const document = attachment ? await objects.getAttachment(vault, collection, name, attachment) : undefined;
  return {
    collection,
    name,
    ...(head ? { head } : {}),
    ...(!head && deleted ? { deleted } : {}),
    ...(document && collection === 'keys' ? { rotationPolicy: document as unknown as RotationPolicy } : {}),
    ...(document && collection === 'certificates' ? { lifetime: document as unknown as CertificateLifetime } : {}),
  };
}

/**
 * Keeps the due items in step with committed state: each target's schedule is derived again from
 * what is stored now and replaces its items. Reading the state (rather than trusting the change's
 * image) makes the order in which changes arrive irrelevant: the last one to be handled sees the last
 * state.
 */
export class ScheduleKeeper {
  constructor(
    private readonly sources: ScheduleSources,
    private readonly store: DueStore,
  ) {}

  async keep(target: ScheduleTarget): Promise<void> {
    if (target.type === 'vault') {
      const vault = await this.sources.vaults.getVault(target.vault.toLowerCase());
      await this.store.replace(target.vault, VAULT_PURGE_SLOT, vault ? vaultSchedule(vault) : []);
      return;
    }
    const state = await readObjectState(this.sources.objects, target.vault, target.collection, target.name);
    await this.store.replace(target.vault, objectSlotPrefix(target.collection, target.name), objectSchedule(target.vault, state));
  }

  /** Keeps each target once; answers the indexes of the targets whose items could not be written. */
  async keepAll(targets: readonly ScheduleTarget[], report: (error: unknown) => void = () => {}): Promise<number[]> {
    const failed: number[] = [];
    const done = new Map<string, boolean>();
    for (const [index, target] of targets.entries()) {
      const key =
        target.type === 'vault' ? `v\u0000${target.vault}` : `o\u0000${target.vault}\u0000${target.collection}\u0000${target.name.toLowerCase()}`;
      if (!done.has(key)) {
        done.set(
          key,
          await this.keep(target).then(
            () => true,
            (error: unknown) => {
              report(error);
              return false;
            },
          ),
        );
      }
      if (!done.get(key)) failed.push(index);
    }
    return failed;
  }
}
