import type { Collection } from '../core/kinds.ts';
import type { Vault } from '../vaults/vault.ts';
import { vaultResourceId } from '../vaults/vault.ts';
import { accessPolicyChangedEvent, type EventGridEvent, type EventVault, objectEvent } from './events.ts';

/**
 * From committed changes (the objects table's stream, in order per item) to published events. A
 * change that cannot be published is reported back, so the stream hands it again (at least once); a
 * change that yields no event (a vault purged since) is done.
 */
export type CommittedChange =
  | {
      type: 'versionAdded';
      vault: string;
      collection: Collection;
      name: string;
      version: string;
      nbf?: number;
      exp?: number;
      /** When the version was written, Unix seconds: the event's time. */
      created: number;
    }
  | { type: 'vaultAccessChanged'; vault: string; revision: number; time: number };

/** Where events go: EventBridge in AWS (lib/aws/eventbridge-publisher.ts). Answers the events it could not publish. */
export interface EventPublisher {
  publish(events: EventGridEvent[]): Promise<{ failed: EventGridEvent[] }>;
}

/** The vaults events name: deleted ones too (their writes happened), purged ones not. */
export interface EventVaultLookup {
  getVault(name: string): Promise<Vault | undefined>;
}

function eventVaultOf(vault: Vault): EventVault {
  return { name: vault.name, resourceId: vaultResourceId(vault), baseUrl: vault.vaultUri.replace(/\/+$/, '') };
}

export class EventEmitter {
  constructor(
    private readonly vaults: EventVaultLookup,
    private readonly publisher: EventPublisher,
  ) {}

  /** The events of these changes; every event carries the index of the change it came from. */
  async eventsOf(changes: CommittedChange[]): Promise<{ change: number; event: EventGridEvent }[]> {
    const vaults = new Map<string, EventVault | undefined>();
    const out: { change: number; event: EventGridEvent }[] = [];
    for (const [index, change] of changes.entries()) {
      const key = change.vault.toLowerCase();
      if (!vaults.has(key)) {
        const vault = await this.vaults.getVault(key);
        vaults.set(key, vault ? eventVaultOf(vault) : undefined);
      }
      const vault = vaults.get(key);
      if (!vault) continue;
      out.push({
        change: index,
        event:
          change.type === 'versionAdded'
            ? objectEvent('NewVersionCreated', { ...change, vault }, change.created)
            : accessPolicyChangedEvent(vault, change.revision, change.time),
      });
    }
    return out;
  }

  /** Publishes the changes' events; answers the indexes of the changes not fully published. */
  async emit(changes: CommittedChange[]): Promise<number[]> {
    const events = await this.eventsOf(changes);
    if (events.length === 0) return [];
    const { failed } = await this.publisher.publish(events.map((e) => e.event));
    const failedIds = new Set(failed.map((event) => event.id));
    return [...new Set(events.filter((e) => failedIds.has(e.event.id)).map((e) => e.change))].sort((a, b) => a - b);
  }
}
