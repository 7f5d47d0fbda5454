import { type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import type { Vault, VaultStore } from '../vaults/vault.ts';
import { isConditionFailure } from './dynamo/errors.ts';
import { vaultKey } from './dynamo/layout.ts';

export class DynamoVaultStore implements VaultStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getVault(name: string): Promise<Vault | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: vaultKey(name), ConsistentRead: true }));
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...vault } = Item;
    return vault as Vault;
  }

  async createVault(vault: Vault): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.table, Item: { ...vaultKey(vault.name), ...vault }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async putVault(vault: Vault): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...vaultKey(vault.name), ...vault } }));
  }
}
