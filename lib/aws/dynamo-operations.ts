import type { OperationStore, VaultOperation } from '../vaults/operations.ts';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import { operationKey } from './dynamo/layout.ts';

/** Finished management operations in the objects table, one item each, for their status to be polled. */
export class DynamoOperationStore implements OperationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putOperation(operation: VaultOperation): Promise<void> {
    const { id, subscriptionId, location, status, resourceName, startTime, endTime } = operation;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...operationKey(subscriptionId, id),
          subscriptionId,
          location,
          status,
          operation: operation.operation,
          resourceName,
          startTime,
          endTime,
        },
      }),
    );
  }

  async getOperation(subscriptionId: string, operationId: string): Promise<VaultOperation | undefined> {
    // Consistent: the client polls right after the 202, and an eventually consistent read could miss the item just written.
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: operationKey(subscriptionId, operationId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      id: String(Item.sk),
      subscriptionId: String(Item.subscriptionId),
      location: String(Item.location),
      operation: Item.operation === 'purgeManagedHsm' ? 'purgeManagedHsm' : 'purge',
      // Vault purges recorded before pools existed named their vault `vaultName`.
      resourceName: String(Item.resourceName ?? Item.vaultName),
      status: 'Succeeded',
      startTime: String(Item.startTime),
      endTime: String(Item.endTime),
    };
  }
}
