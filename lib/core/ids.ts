import { type Collection, collectionOfSegment, KINDS } from './kinds.ts';

/**
 * Object identifiers as Key Vault prints them: `<vault url>/<collection>/<name>[/<version>]` and
 * `<vault url>/deleted<collection>/<name>`. Built from the vault's canonical URL in one place, so
 * wire shapes, audit records, events and scheduled work all print the same id.
 */
export function objectId(vaultUrl: string, collection: Collection, name: string, version?: string): string {
  const base = `${vaultUrl}/${KINDS[collection].collection}/${name}`;
  return version ? `${base}/${version}` : base;
}

export function deletedObjectId(vaultUrl: string, collection: Collection, name: string): string {
  return `${vaultUrl}/${KINDS[collection].deletedCollection}/${name}`;
}

export interface ParsedObjectId {
  vaultUrl: string;
  collection: Collection;
  deleted: boolean;
  name: string;
  version?: string;
}

/**
 * The parts of an object id, or undefined for anything that is not one. @public: events and
 * scheduled work read ids back with it; no caller in the request path needs it.
 */
export function parseObjectId(id: string): ParsedObjectId | undefined {
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.search || url.hash) return undefined;
  const [segment, name, version, ...rest] = url.pathname.split('/').slice(1);
  if (!segment || !name || rest.length > 0) return undefined;
  const collection = collectionOfSegment(segment);
  if (!collection) return undefined;
  const deleted = segment.toLowerCase() === KINDS[collection].deletedCollection;
  if (deleted && version) return undefined;
  return { vaultUrl: url.origin, collection, deleted, name, ...(version ? { version } : {}) };
}
