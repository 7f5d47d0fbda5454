/**
 * The DynamoDB tables, described once: the local stack creates them from this description and
 * infra/ declares the same keys for AWS (a test compares the two).
 *
 * Objects table, one item per:
 *   vault            pk `VAULT#<vault>`                         sk `VAULT`
 *   object head      pk `<vault>#<collection>`                   sk `<lowercased name>`
 *   deleted head     pk `<vault>#deleted<collection>`            sk `<lowercased name>`
 *   object version   pk `<vault>#<collection>#<lowercased name>` sk `<version>`
 * so every list is one Query on a partition and reading the latest version is one GetItem on the
 * head (which carries the latest version's metadata) plus one on the version.
 *
 * Audit table: pk `<vault>#<UTC day>`, sk `<ISO time>#<request id>`, expiring through TTL.
 */
export interface TableDefinition {
  readonly logicalName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute?: string;
}

export const objectsTable: TableDefinition = { logicalName: 'ObjectsTable', partitionKey: 'pk', sortKey: 'sk' };

export const auditTable: TableDefinition = {
  logicalName: 'AuditTable',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
};

export const tables = [objectsTable, auditTable] as const;
