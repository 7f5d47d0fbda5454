import { type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import type { Vault, VaultStore } from '../vaults/vault.ts';
import { deleteItems } from './dynamo/batch.ts';
import { claimEndpoint, createWithIndex, endpointHolder, putIfRevision, recordsByIndex, releaseEndpoint } from './dynamo/control-records.ts';
import { resourceGroupKey, subscriptionVaultsPartition, vaultKey } from './dynamo/layout.ts';
import { removeVaultContents } from './dynamo/vault-contents.ts';

/**
 * Vault records in the objects table: the vault item, an index item per vault in its subscription's
 * partition (written with it in one transaction), and the claims of local endpoints.
 */
export class DynamoVaultStore implements VaultStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getVault(name: string): Promise<Vault | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: vaultKey(name), ConsistentRead: true }));
    return Item ? toVault(Item) : undefined;
  }

  createVault(vault: Vault): Promise<boolean> {
    return createWithIndex(this.db, this.table, { ...vaultKey(vault.name), ...vault }, this.indexItem(vault));
  }

  async updateVault(vault: Vault, expectedRevision: number): Promise<boolean> {
    if (!(await putIfRevision(this.db, this.table, { ...vaultKey(vault.name), ...vault }, expectedRevision))) return false;
    // A vault created before subscriptions existed gains its index item on its first update.
    await this.db.send(new PutCommand({ TableName: this.table, Item: this.indexItem(vault) }));
    return true;
  }

  /** A claim a managed HSM pool holds names no vault. */
  vaultAtEndpoint(hostAndPort: string): Promise<string | undefined> {
    return endpointHolder(this.db, this.table, hostAndPort, 'vault');
  }

  async vaultsIn(subscriptionId: string): Promise<Vault[]> {
    return (await recordsByIndex(this.db, this.table, subscriptionVaultsPartition(subscriptionId), vaultKey)).map(toVault);
  }

  claimEndpoint(hostAndPort: string, vaultName: string): Promise<boolean> {
    return claimEndpoint(this.db, this.table, hostAndPort, 'vault', vaultName);
  }

  releaseEndpoint(hostAndPort: string, vaultName: string): Promise<void> {
    return releaseEndpoint(this.db, this.table, hostAndPort, 'vault', vaultName);
  }

  async purgeVault(vault: Vault): Promise<string[]> {
    const hsmArns = await removeVaultContents(this.db, this.table, vault.name);
    // The vault goes last: a purge that fails half-way is retried by purging the still-deleted vault again.
    await deleteItems(this.db, this.table, [vaultKey(vault.name), { pk: subscriptionVaultsPartition(vault.subscriptionId), sk: vault.name }]);
    return hsmArns;
  }

  async resourceGroupExists(subscriptionId: string, name: string): Promise<boolean> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: resourceGroupKey(subscriptionId, name), ConsistentRead: true }));
    return Item !== undefined;
  }

  private indexItem(vault: Vault): Record<string, unknown> {
    return { pk: subscriptionVaultsPartition(vault.subscriptionId), sk: vault.name, resourceGroup: vault.resourceGroup };
  }
}

function toVault(item: Record<string, unknown>): Vault {
  const { pk: _pk, sk: _sk, ...vault } = item;
  return vault as unknown as Vault;
}
