import type { EventSubscription, EventSubscriptionStore } from './subscriptions.ts';

/** The subscription store in memory, for tests: the DynamoDB one's twin (lib/aws/dynamo-event-subscriptions.ts). */
export class MemoryEventSubscriptionStore implements EventSubscriptionStore {
  private readonly items = new Map<string, EventSubscription>();

  private static keyOf(vault: string, name: string): string {
    return `${vault}\u0000${name.toLowerCase()}`;
  }

  async get(vault: string, name: string): Promise<EventSubscription | undefined> {
    const found = this.items.get(MemoryEventSubscriptionStore.keyOf(vault, name));
    return found ? structuredClone(found) : undefined;
  }

  async list(vault: string): Promise<EventSubscription[]> {
    return [...this.items.values()]
      .filter((subscription) => subscription.vault === vault)
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      .map((subscription) => structuredClone(subscription));
  }

  async put(subscription: EventSubscription): Promise<void> {
    this.items.set(MemoryEventSubscriptionStore.keyOf(subscription.vault, subscription.name), structuredClone(subscription));
  }

  async delete(vault: string, name: string): Promise<void> {
    this.items.delete(MemoryEventSubscriptionStore.keyOf(vault, name));
  }

  /** A purged vault's partition goes with it. */
  purgeVault(vault: string): void {
    for (const [key, subscription] of [...this.items]) if (subscription.vault === vault) this.items.delete(key);
  }
}
