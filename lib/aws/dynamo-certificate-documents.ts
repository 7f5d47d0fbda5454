import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from './api/dynamodb.ts';
import type { CertificateDocument, CertificateDocumentKind, CertificateDocuments } from '../certificates/documents.ts';
import type { Page } from '../objects/store.ts';
import { certificateDocumentKey, certificateDocumentPartition } from './dynamo/layout.ts';
import { clean } from './dynamo/object-items.ts';
import { queryPage } from './dynamo/paging.ts';

/**
 * The certificate documents in the objects table: one item per document, pk
 * `<vault>#certificate-<kind>`, sk the lowercased name, carrying `name` (as first written) and
 * `document`. Every read is strongly consistent, as the object store's are: a document just written
 * (an issuer set, an operation completed) is what the next request reads. Purging the vault removes
 * them (lib/aws/dynamo-vaults.ts).
 */
export class DynamoCertificateDocuments implements CertificateDocuments {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(vault: string, kind: CertificateDocumentKind, name: string): Promise<CertificateDocument | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: certificateDocumentKey(vault, kind, name), ConsistentRead: true }),
    );
    return Item ? toDocument(Item) : undefined;
  }

  async put(vault: string, kind: CertificateDocumentKind, name: string, document: Record<string, unknown>): Promise<void> {
    // One UpdateItem, not a read and a put: the first casing of the name stays whoever writes after.
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: certificateDocumentKey(vault, kind, name),
        UpdateExpression: 'SET #name = if_not_exists(#name, :name), #document = :document',
        ExpressionAttributeNames: { '#name': 'name', '#document': 'document' },
        ExpressionAttributeValues: { ':name': name, ':document': clean(document) },
      }),
    );
  }

  async delete(vault: string, kind: CertificateDocumentKind, name: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: certificateDocumentKey(vault, kind, name), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  async list(vault: string, kind: CertificateDocumentKind, limit: number, cursor?: string): Promise<Page<CertificateDocument>> {
    return queryPage(this.db, this.table, certificateDocumentPartition(vault, kind), limit, cursor, toDocument, ['pk', 'sk', 'name', 'document']);
  }
}

function toDocument(item: Record<string, unknown>): CertificateDocument {
  return { name: item.name as string, document: (item.document ?? {}) as Record<string, unknown> };
}
