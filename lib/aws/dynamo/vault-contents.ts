import type { DynamoDBDocumentClient } from '../api/dynamodb.ts';
import type { CertificateDocumentKind } from '../../certificates/documents.ts';
import { type Collection, KINDS } from '../../core/kinds.ts';
import { deleteItems } from './batch.ts';
import {
  attachmentPartition,
  certificateDocumentPartition,
  deletedPartition,
  eventSubscriptionPartition,
  headPartition,
  type ItemKey,
  schedulePartition,
  versionPartition,
} from './layout.ts';
import { queryPartition } from './paging.ts';

/**
 * Removes everything the objects table holds under a vault's partition prefix (`<vault>#...`: lib/aws/tables.ts),
 * never the vault's own record: its objects (heads, deleted heads, versions, attachments), its
 * certificate documents, its due work and its event subscriptions' records. Every partition is found
 * from a known name: a collection's head and deleted-head partitions list the objects, and each
 * object names its version and attachment partitions; no scan. A managed HSM pool's keys live under
 * the prefix `MHSM#<pool>` in the same layout (docs/adr/0024), so the pool's purge removes them here
 * too. Heads go after their versions and attachments, so a removal that fails half-way finds the
 * rest from the heads when it runs again. Answers the KMS key ARNs of the HSM key versions it removed.
 */
export async function removeVaultContents(db: DynamoDBDocumentClient, table: string, vault: string): Promise<string[]> {
  const queryAll = (pk: string) => queryPartition(db, table, pk);
  const hsmArns: string[] = [];
  for (const collection of Object.keys(KINDS) as Collection[]) {
    for (const partition of [headPartition(vault, collection), deletedPartition(vault, collection)]) {
      const heads = await queryAll(partition);
      for (const head of heads) {
        const name = String(head.sk);
        const versions = await queryAll(versionPartition(vault, collection, name));
        for (const version of versions) {
          const arn = (version.plain as { hsmArn?: string } | undefined)?.hsmArn;
          if (arn) hsmArns.push(arn);
        }
        const attachments = await queryAll(attachmentPartition(vault, collection, name));
        await deleteItems(db, table, [...versions, ...attachments].map(keyOf));
      }
      await deleteItems(db, table, heads.map(keyOf));
    }
  }
  await removeCertificateDocuments(db, table, vault);
  // Its scheduled work (a vault's own purge's item among it) goes with it.
  await deleteItems(db, table, (await queryAll(schedulePartition(vault))).map(keyOf));
  // Its event subscriptions' records too (their EventBridge rules were removed before: lib/events/subscriptions.ts removeAll).
  await deleteItems(db, table, (await queryAll(eventSubscriptionPartition(vault))).map(keyOf));
  return hsmArns;
}

/**
 * The vault's certificate documents, and the attachments of every certificate an operation names:
 * a certificate still pending has attachments but no head, so the object loop above never saw them.
 * The operations go last, so a purge that fails half-way still finds the names on its next run.
 */
async function removeCertificateDocuments(db: DynamoDBDocumentClient, table: string, vault: string): Promise<void> {
  const operations = await queryPartition(db, table, certificateDocumentPartition(vault, 'operations'));
  for (const operation of operations) {
    const attachments = await queryPartition(db, table, attachmentPartition(vault, 'certificates', String(operation.sk)));
    await deleteItems(db, table, attachments.map(keyOf));
  }
  for (const kind of ['contacts', 'issuers', 'operations'] satisfies CertificateDocumentKind[]) {
    const documents = kind === 'operations' ? operations : await queryPartition(db, table, certificateDocumentPartition(vault, kind));
    await deleteItems(db, table, documents.map(keyOf));
  }
}

function keyOf(item: Record<string, unknown>): ItemKey {
  return { pk: String(item.pk), sk: String(item.sk) };
}
