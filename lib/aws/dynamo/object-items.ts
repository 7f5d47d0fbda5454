import type { DeletedHead, StoredHead, StoredVersion } from '../../objects/store.ts';

/**
 * The attributes of head, deleted-head and version items, and the records read back from them. Keys
 * (pk, sk) come from layout.ts; a deleted head also carries `purging` while a purge runs, and a version
 * its `revision` once it has been updated.
 *
 * A live head also carries `latestCopy`, the latest version's sealed secret (`{ secret }`, or `{}` for
 * a version without one, an HSM key's), so the latest version is one GetItem of the head
 * (docs/adr/0008-one-request-reads.md). It is written in the same transaction as the version it
 * copies, and only up to HEAD_COPY_MAX_BYTES: a larger secret stays in its version alone, and so does
 * every secret of a head written before the copy existed; reading such a head falls back to the
 * version item. Deleted heads carry no copy (recover writes it again from the version).
 */

/** Every version attribute but the sealed secret: what list pages read. */
export const VERSION_SUMMARY_ATTRIBUTES = ['pk', 'sk', 'name', 'version', 'attributes', 'meta', 'plain'];

/** Every head attribute but the latest version's copy: what list pages and existence checks read. */
export const HEAD_SUMMARY_ATTRIBUTES = ['pk', 'sk', 'name', 'latest', 'revision', 'attributes', 'meta', 'plain'];

/**
 * The largest sealed secret a head carries a copy of. Lists read whole heads (DynamoDB charges a Query
 * by the size of the items it reads, whatever it projects), so the copy makes every list page dearer;
 * 4 KiB holds every software key (an RSA-4096 private key seals to about 2.6 KB) and the secrets most
 * vaults hold, and bounds a page of 25 heads at about 25 read units more (see the ADR for the figures).
 */
export const HEAD_COPY_MAX_BYTES = 4096;

/** The head's copy of its latest version, when the version is small enough to copy. */
export function latestCopyOf(version: Pick<StoredVersion, 'secret'>): { latestCopy?: { secret?: Uint8Array } } {
  if (!version.secret) return { latestCopy: {} };
  return version.secret.length <= HEAD_COPY_MAX_BYTES ? { latestCopy: { secret: version.secret } } : {};
}

/**
 * The latest version a head item carries, or undefined when it carries no copy (too large to copy,
 * or written before heads carried one): then the version item has it.
 */
export function latestFromHead(item: Record<string, unknown>, head: StoredHead): StoredVersion | undefined {
  const copy = item.latestCopy as { secret?: Uint8Array } | undefined;
  if (!copy) return undefined;
  return {
    name: head.name,
    version: head.latest,
    attributes: head.attributes,
    meta: head.meta,
    ...(copy.secret ? { secret: copy.secret } : {}),
    plain: head.plain,
  };
}

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
