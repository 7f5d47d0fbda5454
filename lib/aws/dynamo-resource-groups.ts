import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from './api/dynamodb.ts';
import type { ResourceGroupStore } from '../vaults/resource-groups.ts';
import type { ResourceGroup } from '../vaults/subscriptions.ts';
import { isConditionFailure } from './dynamo/errors.ts';
import { resourceGroupKey, resourceGroupPartition } from './dynamo/layout.ts';

/**
 * Resource groups in the objects table, one item per group under its subscription's partition
 * (`SUB#<subscription>`, `RG#<lowercased name>`): a subscription's groups are one Query, and the
 * lowercased key makes names case-insensitive while the item keeps the creator's spelling.
 */
export class DynamoResourceGroupStore implements ResourceGroupStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getResourceGroup(subscriptionId: string, name: string): Promise<ResourceGroup | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: resourceGroupKey(subscriptionId, name), ConsistentRead: true }));
    return Item ? groupOf(Item) : undefined;
  }

  async createResourceGroup(group: ResourceGroup): Promise<boolean> {
    return this.conditionalPut(group, 'attribute_not_exists(pk)');
  }

  async updateResourceGroup(group: ResourceGroup): Promise<boolean> {
    return this.conditionalPut(group, 'attribute_exists(pk)');
  }

  async listResourceGroups(subscriptionId: string): Promise<ResourceGroup[]> {
    const groups: ResourceGroup[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :rg)',
          ExpressionAttributeValues: { ':pk': resourceGroupPartition(subscriptionId), ':rg': 'RG#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      groups.push(...Items.map(groupOf));
      start = LastEvaluatedKey;
    } while (start);
    return groups;
  }

  async deleteResourceGroup(subscriptionId: string, name: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.table, Key: resourceGroupKey(subscriptionId, name), ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async conditionalPut(group: ResourceGroup, condition: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...resourceGroupKey(group.subscriptionId, group.name), ...group },
          ConditionExpression: condition,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function groupOf(item: Record<string, unknown>): ResourceGroup {
  return {
    subscriptionId: String(item.subscriptionId),
    name: String(item.name),
    location: String(item.location),
    tags: (item.tags as Record<string, string> | undefined) ?? {},
  };
}
