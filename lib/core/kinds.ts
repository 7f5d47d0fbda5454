/**
 * The kinds of versioned vault object and how each is named on the wire and in storage: the one table
 * ids, errors, routes, the store and events read, so adding a kind is one row.
 */
export const KINDS = {
  secrets: { kind: 'Secret', collection: 'secrets', deletedCollection: 'deletedsecrets' },
  keys: { kind: 'Key', collection: 'keys', deletedCollection: 'deletedkeys' },
  certificates: { kind: 'Certificate', collection: 'certificates', deletedCollection: 'deletedcertificates' },
} as const;

export type Collection = keyof typeof KINDS;
export type ObjectKind = (typeof KINDS)[Collection]['kind'];

/** The collection a path segment names (`keys`, `deletedkeys`), or undefined. */
export function collectionOfSegment(segment: string): Collection | undefined {
  const lower = segment.toLowerCase();
  for (const [collection, row] of Object.entries(KINDS) as [Collection, (typeof KINDS)[Collection]][]) {
    if (row.collection === lower || row.deletedCollection === lower) return collection;
  }
  return undefined;
}
