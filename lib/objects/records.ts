import type { DeletedHead, ObjectAttributes, Page, StoredHead, StoredVersion } from './store.ts';

/**
 * What services answer: an object's facts, with its sealed content opened, and no id or URL in it.
 * The wire modules (lib/<domain>/wire.ts) turn records into Azure's shapes from the vault's URL, so
 * an HTTP handler, an event or scheduled work all print the same thing from the same record.
 */
export interface ObjectRecord {
  /** The name as first created: names are case-insensitive but keep their casing. */
  name: string;
  version: string;
  attributes: ObjectAttributes;
  tags?: Record<string, string>;
  /** Owned by the service (a certificate's key or secret), not by the caller. */
  managed?: boolean;
}

export interface DeletedDates {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export type Deleted<R extends ObjectRecord> = R & DeletedDates;

/** A page of stored items turned into a page of records, keeping the store's cursor. */
export async function recordPage<T, R>(page: Page<T>, toRecord: (item: T) => Promise<R>): Promise<Page<R>> {
  return { items: await Promise.all(page.items.map(toRecord)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** The latest version's metadata a head copies, as that version (without its sealed secret). */
export function latestOf(head: StoredHead): StoredVersion {
  return { name: head.name, version: head.latest, attributes: head.attributes, meta: head.meta, plain: head.plain };
}

export function deletedDatesOf(deleted: DeletedHead): DeletedDates {
  return { deletedDate: deleted.deletedDate, scheduledPurgeDate: deleted.scheduledPurgeDate };
}

/** `managed` is plain metadata the service sets; a record carries it only when true. */
export function managedOf(version: Pick<StoredVersion, 'plain'>): Pick<ObjectRecord, 'managed'> {
  return version.plain.managed === true ? { managed: true } : {};
}
