import { type DueItem, type DueKey, type DueStore, fingerprintOf, type StoredDueItem, shardOf } from './schedule.ts';

/** The due store in memory, for tests: the DynamoDB one's twin (test/contract/due-store.contract.ts). */
export class MemoryDueStore implements DueStore {
  private readonly items = new Map<string, StoredDueItem>();

  private static keyOf(vault: string, slot: string): string {
    return `${vault.toLowerCase()}\u0000${slot}`;
  }

  async replace(vault: string, prefix: string, items: DueItem[]): Promise<void> {
    const wanted = new Map(items.map((item) => [item.slot, item]));
    for (const [key, stored] of [...this.items]) {
      if (stored.vault.toLowerCase() === vault.toLowerCase() && stored.slot.startsWith(prefix) && !wanted.has(stored.slot)) this.items.delete(key);
    }
    for (const item of items) {
      const key = MemoryDueStore.keyOf(vault, item.slot);
      const fingerprint = fingerprintOf(item);
      if (this.items.get(key)?.fingerprint === fingerprint) continue;
      this.items.set(key, structuredClone({ ...item, vault, fingerprint, done: false }));
    }
  }

  async due(shard: number, until: number, limit: number, after?: DueKey): Promise<DueKey[]> {
    // Index order: by time, then by the item's key (the vault's partition, the slot).
    const order = (a: DueKey, b: DueKey) => a.dueAt - b.dueAt || a.vault.localeCompare(b.vault) || a.slot.localeCompare(b.slot);
    return [...this.items.values()]
      .filter((item) => !item.done && item.dueAt <= until && shardOf(item.vault, item.slot) === shard)
      .map(({ vault, slot, dueAt }) => ({ vault, slot, dueAt }))
      .filter((key) => !after || order(key, after) > 0)
      .sort(order)
      .slice(0, limit);
  }

  async get(vault: string, slot: string): Promise<StoredDueItem | undefined> {
    const item = this.items.get(MemoryDueStore.keyOf(vault, slot));
    return item ? structuredClone(item) : undefined;
  }

  async claim(item: StoredDueItem, now: number, leaseUntil: number): Promise<boolean> {
    const stored = this.holding(item);
    if (!stored || stored.done || (stored.leaseUntil !== undefined && stored.leaseUntil > now)) return false;
    stored.leaseUntil = leaseUntil;
    return true;
  }

  async complete(item: StoredDueItem): Promise<boolean> {
    const stored = this.holding(item);
    if (!stored) return false;
    stored.done = true;
    delete stored.leaseUntil;
    return true;
  }

  async defer(item: StoredDueItem, dueAt: number): Promise<boolean> {
    const stored = this.holding(item);
    if (!stored) return false;
    stored.dueAt = dueAt;
    delete stored.leaseUntil;
    return true;
  }

  /** The stored item, if its slot still holds the same work. */
  private holding(item: StoredDueItem): StoredDueItem | undefined {
    const stored = this.items.get(MemoryDueStore.keyOf(item.vault, item.slot));
    return stored?.fingerprint === item.fingerprint ? stored : undefined;
  }
}
