import type { DeletedHead, StoredHead, StoredVersion } from '../../objects/store.ts';

/**
 * The attributes of head, deleted-head and version items, and the records read back from them. Keys
 * (pk, sk) come from layout.ts; a deleted head also carries `purging` while a purge runs, and a version
 * its `revision` once it has been updated.
 */

/** Every version attribute but the sealed secret: what list pages read. */
export const VERSION_SUMMARY_ATTRIBUTES = ['pk', 'sk', 'name', 'version', 'attributes', 'meta', 'plain'];

export function headItem(head: StoredHead) {
  return {
    name: head.name,
    latest: head.latest,
    revision: head.revision,
    attributes: clean(head.attributes),
    meta: head.meta,
    plain: clean(head.plain),
  };
}

export function deletedHeadItem(deleted: DeletedHead) {
  return { ...headItem(deleted), deletedDate: deleted.deletedDate, scheduledPurgeDate: deleted.scheduledPurgeDate };
}

export function versionItem(version: StoredVersion) {
  return {
    name: version.name,
    version: version.version,
    attributes: clean(version.attributes),
    meta: version.meta,
    ...(version.secret ? { secret: version.secret } : {}),
    plain: clean(version.plain),
  };
}

export function toHead(item: Record<string, unknown>): StoredHead {
  return {
    name: item.name as string,
    latest: item.latest as string,
    revision: item.revision as number,
    attributes: item.attributes as StoredHead['attributes'],
    meta: item.meta as Uint8Array,
    plain: (item.plain ?? {}) as StoredHead['plain'],
  };
}

export function toDeleted(item: Record<string, unknown>): DeletedHead {
  return { ...toHead(item), deletedDate: item.deletedDate as number, scheduledPurgeDate: item.scheduledPurgeDate as number };
}

export function toVersion(item: Record<string, unknown>): StoredVersion {
  return {
    name: item.name as string,
    version: item.version as string,
    attributes: item.attributes as StoredVersion['attributes'],
    meta: item.meta as Uint8Array,
    ...(item.secret ? { secret: item.secret as Uint8Array } : {}),
    plain: (item.plain ?? {}) as StoredVersion['plain'],
  };
}

/**
 * A version's optimistic-concurrency token, bumped by every update of its metadata. A version never
 * updated has none: that reads as 0, and new and restored versions are written without one.
 */
export function versionRevision(item: Record<string, unknown>): number {
  return (item.revision as number | undefined) ?? 0;
}

/** DynamoDB rejects undefined attribute values; optional fields are simply left out. */
export function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
