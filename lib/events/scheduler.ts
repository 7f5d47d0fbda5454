import { randomUUID } from 'node:crypto';
import type { AuditRecord, AuditSink } from '../audit/audit.ts';
import type { Clock, VaultClock } from '../core/clock.ts';
import { type Collection, KINDS } from '../core/kinds.ts';
import type { Vault } from '../vaults/vault.ts';
import { vaultResourceId } from '../vaults/vault.ts';
import { type EventGridEvent, objectEvent } from './events.ts';
import type { EventPublisher } from './publish.ts';
import {
  DUE_SHARDS,
  type DueKey,
  type DueStore,
  type DueWork,
  fingerprintOf,
  objectSchedule,
  objectSlotPrefix,
  readObjectState,
  type ScheduleSources,
  type StoredDueItem,
  vaultSchedule,
} from './schedule.ts';

/**
 * The scheduler (issue #14): runs the work that fell due. Each run Queries every shard of the due
 * index for items due by now, and for each one:
 *  1. claims it (a lease, conditional on the slot still holding that work): a second run at the same
 *     time, or one that overlaps a slow one, leaves it alone;
 *  2. re-reads the current state and derives the schedule again: the work is done only if it is still
 *     there and due (still the current version with that exp, still deleted with that scheduled purge
 *     date, the rotation still due for that version); work the state moved past is replaced by what
 *     the state schedules now, and nothing is done;
 *  3. does it, writes an audit record naming the scheduler as the caller, and marks the item done,
 *     conditional on the slot still holding it.
 * A run that dies half-way leaves its lease to expire; the next run re-reads the state and finds a
 * rotation that happened (a new current version) or a purge that happened (no deleted object) no
 * longer due. Events carry the ids lib/events/events.ts derives from what they tell: published again,
 * they are the same events.
 */
export interface ScheduledActions {
  /** A new version of the key from its rotation policy (lib/keys/rotate.ts): answers its version. */
  rotateKey(vault: Vault, name: string): Promise<string>;
  /** A new version of the certificate from its policy (lib/certificates/issuance.ts). */
  renewCertificate(vault: Vault, name: string): Promise<void>;
  /** The deleted object's purge at the end of its retention, which purge protection allows. */
  purgeObject(vault: Vault, work: Extract<DueWork, { kind: 'purge' }>): Promise<void>;
  /** The deleted vault's purge at the end of its retention. */
  purgeVault(vault: Vault): Promise<void>;
}

export interface SchedulerClock {
  /** The vault's now (lib/core/clock.ts): what due items are compared with. */
  vault: VaultClock;
  /** Real time: leases, audit records. */
  real: Clock;
  /** How far ahead of real time any vault's clock may be: the due index is Queried up to real time plus this. */
  lookahead(): number;
}

/** A claim holds an item this long (real seconds): longer than a run may take (infra: the function's timeout). */
export const LEASE_SECONDS = 300;
/** Items read per page of a shard. */
const ITEMS_PER_PAGE = 100;
/**
 * A run starts work on items only this long (real seconds), so that it ends well inside the
 * function's timeout and the lease (infra/event-functions.ts): what is left, the next run does.
 */
export const RUN_SECONDS = 60;
/** A deleted vault's object work waits this long between looks (its vault may be recovered or purged). */
const DELETED_VAULT_RECHECK_SECONDS = 3600;
/** Work whose action failed is tried again after this long. */
const RETRY_SECONDS = 300;

/** The caller every scheduler audit record names. */
const SCHEDULER_CALLER = 'coffer-scheduler';

export type RunOutcome = 'done' | 'stale' | 'skipped' | 'deferred' | 'failed';

export interface RunSummary {
  done: number;
  stale: number;
  failed: number;
}

export class Scheduler {
  constructor(
    private readonly store: DueStore,
    private readonly sources: ScheduleSources,
    private readonly actions: ScheduledActions,
    private readonly publisher: EventPublisher,
    private readonly audit: AuditSink,
    private readonly clock: SchedulerClock,
    private readonly report: (message: string, details: Record<string, unknown>) => void = () => {},
  ) {}

  /** One run over every shard. */
  async run(): Promise<RunSummary> {
    const summary: RunSummary = { done: 0, stale: 0, failed: 0 };
    const started = this.clock.real();
    const until = started + this.clock.lookahead();
    const timeLeft = () => this.clock.real() - started < RUN_SECONDS;
    for (let shard = 0; shard < DUE_SHARDS && timeLeft(); shard++) {
      // Page by page, so items this run may not take (held by another run, or due in their vault's
      // time only later) never hide the ones after them; until the run's time is up, when what is
      // left waits for the next run.
      let after: DueKey | undefined;
      do {
        const page = await this.store.due(shard, until, ITEMS_PER_PAGE, after);
        for (const key of page) {
          if (!timeLeft()) return summary;
          const outcome = await this.runItem(key);
          if (outcome === 'done' || outcome === 'stale' || outcome === 'failed') summary[outcome] += 1;
        }
        after = page.length === ITEMS_PER_PAGE ? page.at(-1) : undefined;
      } while (after);
    }
    return summary;
  }

  /** One item, if it is due and this run gets it. */
  async runItem(key: DueKey): Promise<RunOutcome> {
    const item = await this.store.get(key.vault, key.slot);
    if (!item || item.done || item.dueAt > this.clock.vault(item.vault)) return 'skipped';
    const real = this.clock.real();
    if (!(await this.store.claim(item, real, real + LEASE_SECONDS))) return 'skipped';
    const vault = await this.sources.vaults.getVault(item.vault.toLowerCase());
    if (item.work.kind === 'purgeVault') return this.purgeVault(item, vault);
    if (!vault) {
      // The vault was purged: its items went with it, but for this one, written by a change handled late.
      await this.store.replace(item.vault, item.slot, []);
      return 'stale';
    }
    if (vault.deleted) {
      // Nothing happens in a deleted vault; its work waits for a recovery, or goes with its purge.
      const purgeAt = vaultSchedule(vault)[0]?.dueAt ?? Number.POSITIVE_INFINITY;
      await this.store.defer(item, Math.min(purgeAt, this.clock.vault(vault.name) + DELETED_VAULT_RECHECK_SECONDS));
      return 'deferred';
    }
    const work = item.work;
    const state = await readObjectState(this.sources.objects, vault.name, collectionOf(work), work.name);
    const schedule = objectSchedule(item.vault, state);
    const current = schedule.find((candidate) => candidate.slot === item.slot);
    if (!current || fingerprintOf(current) !== item.fingerprint) {
      // The state moved on (a new version, a new exp, recovered, purged): schedule what it says now.
      await this.store.replace(item.vault, objectSlotPrefix(state.collection, state.name), schedule);
      return 'stale';
    }
    return this.act(item, vault, work);
  }

  private async purgeVault(item: StoredDueItem, vault: Vault | undefined): Promise<RunOutcome> {
    const current = vault ? vaultSchedule(vault)[0] : undefined;
    if (!vault || !current || fingerprintOf(current) !== item.fingerprint) {
      await this.store.replace(item.vault, item.slot, current ? [current] : []);
      return 'stale';
    }
    return this.act(item, vault, item.work);
  }

  private async act(item: StoredDueItem, vault: Vault, work: DueWork): Promise<RunOutcome> {
    const startedAt = this.clock.real();
    const now = this.clock.vault(vault.name);
    const baseUrl = vault.vaultUri.replace(/\/+$/, '');
    let id = work.kind === 'purgeVault' ? `${baseUrl}/` : `${baseUrl}/${collectionOf(work)}/${work.name}`;
    try {
      switch (work.kind) {
        case 'expiry':
          await this.publish(
            objectEvent(
              work.moment,
              {
                vault: { name: vault.name, resourceId: vaultResourceId(vault), baseUrl },
                collection: work.collection,
                name: work.name,
                version: work.version,
                exp: work.exp,
                ...(work.nbf !== undefined ? { nbf: work.nbf } : {}),
              },
              item.dueAt,
            ),
          );
          id = `${id}/${work.version}`;
          break;
        case 'rotate':
          id = `${id}/${await this.actions.rotateKey(vault, work.name)}`;
          break;
        case 'renew':
          await this.actions.renewCertificate(vault, work.name);
          break;
        case 'purge':
          // Never before the scheduled purge date, whatever the index said.
          if (now < work.scheduledPurgeDate) return 'skipped';
          await this.actions.purgeObject(vault, work);
          break;
        case 'purgeVault':
          if (now < work.scheduledPurgeDate) return 'skipped';
          await this.actions.purgeVault(vault);
          break;
      }
    } catch (error) {
      this.report('scheduled work failed; it is tried again later', { vault: vault.name, slot: item.slot, error: errorName(error) });
      await this.auditAction(vault, work, id, startedAt, error);
      await this.store.defer(item, now + RETRY_SECONDS);
      return 'failed';
    }
    await this.auditAction(vault, work, id, startedAt, undefined);
    // A vault's purge took its items with it; a rotation's new version may have replaced the item already.
    await this.store.complete(item);
    return 'done';
  }

  private async publish(event: EventGridEvent): Promise<void> {
    const { failed } = await this.publisher.publish([event]);
    if (failed.length > 0) throw new EventNotPublished();
  }

  private async auditAction(vault: Vault, work: DueWork, id: string, startedAt: number, error: unknown): Promise<void> {
    const record: AuditRecord = {
      time: new Date(startedAt * 1000).toISOString(),
      vault: vault.name,
      tenantId: vault.tenantId,
      ...(vault.subscriptionId && vault.resourceGroup ? { resourceId: vaultResourceId(vault) } : {}),
      requestId: randomUUID(),
      operationName: operationNameOf(work),
      category: 'AuditEvent',
      resultType: error === undefined ? 'Success' : 'Failure',
      resultSignature: error === undefined ? 'OK' : errorName(error),
      httpStatusCode: error === undefined ? 200 : 500,
      durationMs: Math.max(0, (this.clock.real() - startedAt) * 1000),
      identity: { upn: SCHEDULER_CALLER },
      requestUri: id,
      id,
      clientInfo: SCHEDULER_CALLER,
    };
    await this.audit.write(record, { strict: vault.strictAudit === true });
  }
}

class EventNotPublished extends Error {
  override name = 'EventNotPublished';
}

function collectionOf(work: Exclude<DueWork, { kind: 'purgeVault' }>): Collection {
  if (work.kind === 'rotate') return 'keys';
  if (work.kind === 'renew') return 'certificates';
  return work.collection;
}

/** The audit record's operation: what the scheduler did, in Key Vault's naming style. */
function operationNameOf(work: DueWork): string {
  switch (work.kind) {
    case 'expiry':
      return `Scheduled${KINDS[work.collection].kind}${work.moment}Event`;
    case 'rotate':
      return 'ScheduledKeyRotate';
    case 'renew':
      return 'ScheduledCertificateRenew';
    case 'purge':
      return `Scheduled${KINDS[work.collection].kind}Purge`;
    case 'purgeVault':
      return 'ScheduledVaultPurge';
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
