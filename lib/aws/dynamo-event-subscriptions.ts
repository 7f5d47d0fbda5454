import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import type { EventSubscription, EventSubscriptionStore } from '../events/subscriptions.ts';
import { eventSubscriptionKey, eventSubscriptionPartition } from './dynamo/layout.ts';
import { queryPartition } from './dynamo/paging.ts';

/**
 * Event subscriptions in the objects table, in their vault's own partition (`<vault>#event_subscriptions`,
 * lib/aws/dynamo/layout.ts): a vault's purge removes them with its objects. The stream function sees
 * their writes and ignores them (their partition is no collection's).
 */
export class DynamoEventSubscriptionStore implements EventSubscriptionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(vault: string, name: string): Promise<EventSubscription | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: eventSubscriptionKey(vault, name), ConsistentRead: true }));
    return Item ? toSubscription(Item) : undefined;
  }

  async list(vault: string): Promise<EventSubscription[]> {
    return (await queryPartition(this.db, this.table, eventSubscriptionPartition(vault))).map(toSubscription);
  }

  async put(subscription: EventSubscription): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...eventSubscriptionKey(subscription.vault, subscription.name), ...subscription } }),
    );
  }

  async delete(vault: string, name: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: eventSubscriptionKey(vault, name) }));
  }
}

function toSubscription(item: Record<string, unknown>): EventSubscription {
  const { pk: _pk, sk: _sk, ...subscription } = item;
  return subscription as unknown as EventSubscription;
}
