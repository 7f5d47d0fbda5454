import { type DynamoDBDocumentClient, GetCommand, PutCommand } from './api/dynamodb.ts';
import type { CertificateDocumentKind } from '../certificates/documents.ts';
import { KINDS, type Collection } from '../core/kinds.ts';
import type { Vault, VaultStore } from '../vaults/vault.ts';
import { deleteItems } from './dynamo/batch.ts';
import { claimEndpoint, createWithIndex, endpointHolder, putIfRevision, recordsByIndex, releaseEndpoint } from './dynamo/control-records.ts';
import { queryPartition } from './dynamo/paging.ts';
import {
  attachmentPartition,
  certificateDocumentPartition,
  deletedPartition,
  eventSubscriptionPartition,
  headPartition,
  type ItemKey,
  resourceGroupKey,
  schedulePartition,
  subscriptionVaultsPartition,
  vaultKey,
  versionPartition,
} from './dynamo/layout.ts';

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
    const hsmArns: string[] = [];
    for (const collection of Object.keys(KINDS) as Collection[]) {
      for (const partition of [headPartition(vault.name, collection), deletedPartition(vault.name, collection)]) {
        const heads = await this.queryAll(partition);
        for (const head of heads) {
          const name = String(head.sk);
          const versions = await this.queryAll(versionPartition(vault.name, collection, name));
          for (const version of versions) {
            const arn = (version.plain as { hsmArn?: string } | undefined)?.hsmArn;
            if (arn) hsmArns.push(arn);
          }
          const attachments = await this.queryAll(attachmentPartition(vault.name, collection, name));
          await deleteItems(this.db, this.table, [...versions, ...attachments].map(keyOf));
        }
        await deleteItems(this.db, this.table, heads.map(keyOf));
      }
    }
    await this.purgeCertificateDocuments(vault.name);
    // Its scheduled work (its own purge's item among it) goes with it.
    await deleteItems(this.db, this.table, (await this.queryAll(schedulePartition(vault.name))).map(keyOf));
    // Its event subscriptions' records too (their EventBridge rules were removed before: lib/events/subscriptions.ts removeAll).
    await deleteItems(this.db, this.table, (await this.queryAll(eventSubscriptionPartition(vault.name))).map(keyOf));
    // The vault goes last: a purge that fails half-way is retried by purging the still-deleted vault again.
    await deleteItems(this.db, this.table, [vaultKey(vault.name), { pk: subscriptionVaultsPartition(vault.subscriptionId), sk: vault.name }]);
    return hsmArns;
  }

  async resourceGroupExists(subscriptionId: string, name: string): Promise<boolean> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: resourceGroupKey(subscriptionId, name), ConsistentRead: true }));
    return Item !== undefined;
  }

  /**
   * The vault's certificate documents, and the attachments of every certificate an operation names:
   * a certificate still pending has attachments but no head, so the object loop above never saw them.
   * The operations go last, so a purge that fails half-way still finds the names on its next run.
   */
  private async purgeCertificateDocuments(vault: string): Promise<void> {
    const operations = await this.queryAll(certificateDocumentPartition(vault, 'operations'));
    for (const operation of operations) {
      const attachments = await this.queryAll(attachmentPartition(vault, 'certificates', String(operation.sk)));
      await deleteItems(this.db, this.table, attachments.map(keyOf));
    }
    for (const kind of ['contacts', 'issuers', 'operations'] satisfies CertificateDocumentKind[]) {
      const documents = kind === 'operations' ? operations : await this.queryAll(certificateDocumentPartition(vault, kind));
      await deleteItems(this.db, this.table, documents.map(keyOf));
    }
  }

  private indexItem(vault: Vault): Record<string, unknown> {
    return { pk: subscriptionVaultsPartition(vault.subscriptionId), sk: vault.name, resourceGroup: vault.resourceGroup };
  }

  /** Every item of a partition, keys and all (purge and listing read whole partitions). */
  private queryAll(pk: string): Promise<Record<string, unknown>[]> {
    return queryPartition(this.db, this.table, pk);
  }
}

function keyOf(item: Record<string, unknown>): ItemKey {
  return { pk: String(item.pk), sk: String(item.sk) };
}

function toVault(item: Record<string, unknown>): Vault {
  const { pk: _pk, sk: _sk, ...vault } = item;
  return vault as unknown as Vault;
}
