import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { type DynamoDBDocumentClient, QueryCommand } from '../../lib/aws/api/dynamodb.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoCertificateDocuments } from '../../lib/aws/dynamo-certificate-documents.ts';
import { DynamoObjectStore } from '../../lib/aws/dynamo-objects.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { attachmentPartition, certificateDocumentKey, certificateDocumentPartition } from '../../lib/aws/dynamo/layout.ts';
import type { Vault } from '../../lib/vaults/vault.ts';
import { describeCertificateDocumentsContract } from '../contract/certificate-documents.contract.ts';
import { version } from '../contract/versions.ts';
import { DynamoRequests } from '../support/dynamo-requests.ts';
import { localStack } from '../support/local.ts';

/**
 * The CertificateDocuments contract against DynamoDB Local, on the suite's objects table (each test in
 * a vault of its own); then what only the DynamoDB layout has: the item each document is, the
 * requests each call makes, and that purging a vault leaves none of its certificate documents, nor
 * the attachments of a certificate that is still pending.
 */
let db: DynamoDBDocumentClient | undefined;
const requests = new DynamoRequests();
const savedEnv = { ...process.env };

beforeAll(() => {
  // The stores get their client as the functions do (lib/aws/clients.ts, from their environment).
  Object.assign(process.env, functionEnvironment(localStack()));
  requests.install();
});

afterAll(() => {
  requests.uninstall();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

function client(): DynamoDBDocumentClient {
  db ??= dynamoDocumentClient(functionEnvironment(localStack()).AWS_REGION!);
  return db;
}
const table = () => localStack().tables.objects;
const documents = () => new DynamoCertificateDocuments(client(), table());
const uniqueVault = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** Every item of a partition, read raw. */
async function partition(pk: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await client().send(
    new QueryCommand({ TableName: table(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }),
  );
  return Items as Record<string, unknown>[];
}

describeCertificateDocumentsContract('DynamoDB Local', documents);

describe('DynamoDB layout: certificate documents', () => {
  it('stores each document as one item of its kind partition, keyed by the lowercased name', async () => {
    const vault = uniqueVault('layout');
    await documents().put(vault, 'issuers', 'MyIssuer', { provider: 'Test' });
    await documents().put(vault, 'issuers', 'MYISSUER', { provider: 'Other' });
    expect(certificateDocumentKey(vault, 'issuers', 'MyIssuer')).toEqual({ pk: `${vault}#certificate-issuers`, sk: 'myissuer' });
    expect(await partition(certificateDocumentPartition(vault, 'issuers'))).toEqual([
      { pk: `${vault}#certificate-issuers`, sk: 'myissuer', name: 'MyIssuer', document: { provider: 'Other' } },
    ]);
  });

  it('reads, writes and deletes in one request each, strongly consistent, and lists in one Query', async () => {
    const vault = uniqueVault('requests');
    const store = documents();
    expect(await requests.countsOf(() => store.put(vault, 'operations', 'pending', { status: 'inProgress' }))).toEqual({ UpdateItem: 1 });
    const { requests: sent } = await requests.during(() => store.get(vault, 'operations', 'pending'));
    expect(sent.map((r) => [r.operation, r.input.ConsistentRead])).toEqual([['GetItem', true]]);
    const listed = await requests.during(() => store.list(vault, 'operations', 10));
    expect(listed.requests.map((r) => [r.operation, r.input.ConsistentRead])).toEqual([['Query', true]]);
    expect(listed.result.items).toEqual([{ name: 'pending', document: { status: 'inProgress' } }]);
    expect(await requests.countsOf(() => store.delete(vault, 'operations', 'pending'))).toEqual({ DeleteItem: 1 });
  });
});

describe('purging a vault removes its certificate documents', () => {
  it('leaves no document of any kind, nor the attachments of a pending certificate, and spares other vaults', async () => {
    const name = uniqueVault('purged');
    const neighbour = uniqueVault('kept');
    const store = documents();
    const objects = new DynamoObjectStore(client(), table());
    for (const vault of [name, neighbour]) {
      await store.put(vault, 'contacts', 'contacts', { contacts: [{ email: 'admin@example.com' }] });
      await store.put(vault, 'issuers', 'Issuer1', { provider: 'Test' });
      await store.put(vault, 'issuers', 'Issuer2', { provider: 'Test' });
      // A pending certificate: its operation and policy, but no head yet.
      await store.put(vault, 'operations', 'Pending', { status: 'inProgress' });
      await objects.putAttachment(vault, 'certificates', 'Pending', 'policy', { x509: { subject: 'CN=pending' } });
      // A complete one: its three objects and its operation.
      const id = version('Done', 1).version;
      await objects.addLinkedVersions(
        vault,
        (['certificates', 'keys', 'secrets'] as const).map((collection) => ({
          collection,
          version: { ...version('Done', 1), version: id, plain: { managed: true } },
        })),
      );
      await objects.putAttachment(vault, 'certificates', 'Done', 'policy', { x509: { subject: 'CN=done' } });
      await store.put(vault, 'operations', 'Done', { status: 'completed' });
    }

    await new DynamoVaultStore(client(), table()).purgeVault({ name, subscriptionId: 'purge-test' } as Vault);

    for (const kind of ['contacts', 'issuers', 'operations'] as const) {
      expect(await partition(certificateDocumentPartition(name, kind))).toEqual([]);
      expect((await store.list(name, kind, 10)).items).toEqual([]);
    }
    expect(await partition(attachmentPartition(name, 'certificates', 'pending'))).toEqual([]);
    expect(await partition(attachmentPartition(name, 'certificates', 'done'))).toEqual([]);
    for (const collection of ['certificates', 'keys', 'secrets'] as const) expect(await objects.getHead(name, collection, 'Done')).toBeUndefined();

    expect((await store.list(neighbour, 'issuers', 10)).items.map((d) => d.name)).toEqual(['Issuer1', 'Issuer2']);
    expect((await store.list(neighbour, 'operations', 10)).items.map((d) => d.name)).toEqual(['Done', 'Pending']);
    expect(await store.get(neighbour, 'contacts', 'contacts')).toBeDefined();
    expect(await objects.getAttachment(neighbour, 'certificates', 'Pending', 'policy')).toEqual({ x509: { subject: 'CN=pending' } });
  });
});
