/**
 * The DynamoDB tables, described once: the local stack creates them from this description and
 * infra/ declares the same keys for AWS (a test compares the two).
 *
 * Objects table, one item per:
 *   vault            pk `VAULT#<vault>`                         sk `VAULT`
 *   object head      pk `<vault>#<collection>`                   sk `<lowercased name>`
 *   deleted head     pk `<vault>#deleted<collection>`            sk `<lowercased name>`
 *   object version   pk `<vault>#<collection>#<lowercased name>` sk `<version>`
 *   attachment       pk `<vault>#<collection>-attachments#<lowercased name>` sk `<attachment>` (e.g. a key's rotation policy)
 *   certificate doc  pk `<vault>#certificate-<kind>`             sk `<lowercased name>` (kind: contacts, issuers, operations)
 *   due work         pk `<vault>#schedule`                       sk `<slot>` (e.g. `secrets#db#expired`: lib/events/schedule.ts)
 *   operation        pk `OPERATION#<lowercased subscription>`    sk `<operation id>` (a finished purge, for ARM clients polling its operationResults)
 * so every list is one Query on a partition and reading the latest version is one GetItem on the
 * head (which carries the latest version's metadata and, up to 4 KiB, its sealed secret: see
 * docs/adr/0008-one-request-reads.md); a named version is one BatchGetItem of head and version.
 *
 * Audit table: pk `<vault>#<UTC day>`, sk `<ISO time>#<request id>`, expiring through TTL.
 *
 * lib/aws/dynamo/layout.ts builds these keys.
 *
 * Scheduled work (rotation, expiry notices, purge after retention) is found through `dueIndex`, a
 * sparse global secondary index: only items that carry `dueBucket` appear in it, so the scheduler
 * Queries the buckets that are due instead of scanning the table. `dueBucket` spreads due items over
 * a few fixed shards (`due#0` to `due#3`, lib/events/schedule.ts DUE_SHARDS); `dueAt` is the Unix
 * second they are due, in the vault's time. Work that is done keeps its item without `dueBucket`.
 */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly partitionKeyType: 'S' | 'N';
  readonly sortKey: string;
  readonly sortKeyType: 'S' | 'N';
}

export interface TableDefinition {
  readonly logicalName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute?: string;
  /** Global secondary indexes; they project keys only, the scheduler reads the items it needs. */
  readonly indexes?: readonly IndexDefinition[];
}

/** The scheduler Queries it (lib/aws/dynamo-schedule.ts). */
export const dueIndex: IndexDefinition = { name: 'dueIndex', partitionKey: 'dueBucket', partitionKeyType: 'S', sortKey: 'dueAt', sortKeyType: 'N' };

export const objectsTable: TableDefinition = { logicalName: 'ObjectsTable', partitionKey: 'pk', sortKey: 'sk', indexes: [dueIndex] };

export const auditTable: TableDefinition = {
  logicalName: 'AuditTable',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
};

export const tables = [objectsTable, auditTable] as const;
