import {
  type Collection,
  ConcurrentUpdate,
  type CurrentObject,
  type DeletedHead,
  type LinkedRestore,
  type LinkedUpdate,
  type LinkedVersion,
  ManagedObject,
  type MetadataUpdate,
  NameInUse,
  NameIsDeleted,
  type ObjectStore,
  type Page,
  type PlainMetadata,
  type StoredHead,
  type StoredVersion,
} from './store.ts';

/**
 * The ObjectStore in memory, for fast tests of domain rules. It keeps the DynamoDB store's semantics
 * (test/contract/object-store.contract.ts holds both to them): heads, deleted heads, versions and
 * attachments in spaces of their own, names matched lowercased but kept in their first casing,
 * revision-checked writes retried a bounded number of times, pages in sort-key order (UTF-8 bytes,
 * as DynamoDB orders strings) whose cursor is the last item's sort key.
 *
 * Everything goes in and out as a copy, so a caller that changes what it passed or got back changes
 * nothing stored, exactly as with a real database.
 *
 * Linked writes check every object before they change any, so they land whole or not at all, as the
 * DynamoDB store's one transaction does.
 *
 * Like a DynamoDB head, a live head keeps a copy of its latest version, which every write that
 * changes the latest version or the head writes with it, and the latest version is read from that
 * copy: a write that forgets the copy shows in the contract suite as a read that disagrees with the
 * version.
 */
const MAX_WRITE_ATTEMPTS = 25;
const TRY_AGAIN: unique symbol = Symbol('try again');

type Attachment = Record<string, unknown>;

/**
 * A stored version and its optimistic-concurrency token, bumped by every update of its metadata (its
 * `updated`, one-second resolution, cannot tell two writers in one second apart).
 */
interface VersionEntry {
  version: StoredVersion;
  revision: number;
}

/** One vault's objects of one collection. Maps are keyed by lowercased name, then version or attachment. */
interface Space {
  heads: Map<string, StoredHead>;
  /** Each live head's copy of its latest version, sealed secret included. */
  latestCopies: Map<string, StoredVersion>;
  deleted: Map<string, DeletedHead>;
  versions: Map<string, Map<string, VersionEntry>>;
  attachments: Map<string, Map<string, Attachment>>;
}

export class MemoryObjectStore implements ObjectStore {
  private readonly spaces = new Map<string, Space>();

  async getHead(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
    const head = this.space(vault, collection).heads.get(lower(name));
    return head && copyHead(head);
  }

  async getVersion(vault: string, collection: Collection, name: string, version: string): Promise<StoredVersion | undefined> {
    const stored = this.space(vault, collection).versions.get(lower(name))?.get(version);
    return stored && copyVersion(stored.version);
  }

  async getCurrent(vault: string, collection: Collection, name: string, version?: string): Promise<CurrentObject | undefined> {
    const space = this.space(vault, collection);
    const key = lower(name);
    const head = space.heads.get(key);
    if (!head) return undefined;
    const found = version === undefined ? space.latestCopies.get(key) : space.versions.get(key)?.get(version)?.version;
    return { head: copyHead(head), ...(found ? { version: copyVersion({ ...found, name: head.name }) } : {}) };
  }

  async addVersion(vault: string, collection: Collection, version: StoredVersion): Promise<StoredHead> {
    const space = this.space(vault, collection);
    // Nothing else runs between reading the head and writing the new one, so concurrent adds cannot
    // lose a race here: each lands on top of the previous one.
    checkAdd(space, version);
    if (isManaged(space.heads.get(lower(version.name))) && version.plain.managed !== true) throw new ManagedObject(version.name);
    return writeVersion(space, version);
  }

  async addLinkedVersions(vault: string, versions: LinkedVersion[]): Promise<StoredHead[]> {
    checkLinked(
      versions.map((v) => v.collection),
      versions.map((v) => v.version.name),
    );
    const spaces = versions.map(({ collection }) => this.space(vault, collection));
    for (const [i, { version }] of versions.entries()) checkAdd(spaces[i]!, version);
    return versions.map(({ version }, i) => writeVersion(spaces[i]!, version));
  }

  async updateVersion(
    vault: string,
    collection: Collection,
    name: string,
    versionId: string,
    update: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion | undefined> {
    const space = this.space(vault, collection);
    return retryConflicts(async () => {
      const read = readForUpdate(space, name, versionId);
      if (!read) return undefined;
      if (isManaged(read.head)) throw new ManagedObject(name);
      const change = await update(copyVersion(read.current.version));
      // Another writer changed the version or the head while `update` ran: start again from theirs.
      if (movedSince(space, read)) return TRY_AGAIN;
      return applyUpdate(space, read, change);
    }, name);
  }

  async updateLinkedVersions(vault: string, name: string, versionId: string, updates: LinkedUpdate[]): Promise<StoredVersion[] | undefined> {
    checkLinked(
      updates.map((u) => u.collection),
      [name],
    );
    const spaces = updates.map(({ collection }) => this.space(vault, collection));
    return retryConflicts(async () => {
      const reads = spaces.map((space) => readForUpdate(space, name, versionId));
      if (!reads[0]) return undefined;
      const changes: (MetadataUpdate | undefined)[] = [];
      for (const [i, read] of reads.entries()) changes.push(read && (await updates[i]!.update(copyVersion(read.current.version))));
      if (reads.some((read, i) => read && movedSince(spaces[i]!, read))) return TRY_AGAIN;
      return reads.flatMap((read, i) => (read ? [applyUpdate(spaces[i]!, read, changes[i]!)] : []));
    }, name);
  }

  async listHeads(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<StoredHead>> {
    return pageOf(this.space(vault, collection).heads, limit, cursor, copyHead);
  }

  async listVersions(vault: string, collection: Collection, name: string, limit: number, cursor?: string): Promise<Page<StoredVersion>> {
    const versions = this.space(vault, collection).versions.get(lower(name)) ?? new Map<string, VersionEntry>();
    return pageOf(versions, limit, cursor, (entry) => withoutSecret(entry.version));
  }

  async allVersions(vault: string, collection: Collection, name: string, max: number): Promise<StoredVersion[]> {
    const versions = this.space(vault, collection).versions.get(lower(name)) ?? new Map<string, VersionEntry>();
    return sortKeys(versions)
      .slice(0, max + 1)
      .map((version) => copyVersion(versions.get(version)!.version));
  }

  async softDelete(
    vault: string,
    collection: Collection,
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead | undefined> {
    const space = this.space(vault, collection);
    const head = space.heads.get(lower(name));
    if (!head) return undefined;
    if (isManaged(head)) throw new ManagedObject(name);
    checkDelete(space, name);
    return moveToDeleted(space, name, dates);
  }

  async softDeleteLinked(
    vault: string,
    collections: Collection[],
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead[] | undefined> {
    checkLinked(collections, [name]);
    const spaces = collections.map((collection) => this.space(vault, collection));
    if (!spaces[0]!.heads.has(lower(name))) return undefined;
    const present = spaces.filter((space) => space.heads.has(lower(name)));
    for (const space of present) checkDelete(space, name);
    return present.map((space) => moveToDeleted(space, name, dates));
  }

  async getDeleted(vault: string, collection: Collection, name: string): Promise<DeletedHead | undefined> {
    const deleted = this.space(vault, collection).deleted.get(lower(name));
    return deleted && copyDeleted(deleted);
  }

  async listDeleted(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<DeletedHead>> {
    return pageOf(this.space(vault, collection).deleted, limit, cursor, copyDeleted);
  }

  async recover(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
    const space = this.space(vault, collection);
    if (!recoverable(space, name)) return undefined;
    if (isManaged(space.deleted.get(lower(name)))) throw new ManagedObject(name);
    return moveToLive(space, name);
  }

  async recoverLinked(vault: string, collections: Collection[], name: string): Promise<StoredHead[] | undefined> {
    checkLinked(collections, [name]);
    const spaces = collections.map((collection) => this.space(vault, collection));
    if (!recoverable(spaces[0]!, name)) return undefined;
    return spaces.filter((space) => recoverable(space, name)).map((space) => moveToLive(space, name));
  }

  async purge(vault: string, collection: Collection, name: string): Promise<boolean> {
    const space = this.space(vault, collection);
    const deleted = space.deleted.get(lower(name));
    if (!deleted) return false;
    if (isManaged(deleted)) throw new ManagedObject(name);
    removeDeleted(space, name);
    return true;
  }

  async purgeLinked(vault: string, collections: Collection[], name: string): Promise<boolean> {
    checkLinked(collections, [name]);
    const spaces = collections.map((collection) => this.space(vault, collection));
    if (!spaces[0]!.deleted.has(lower(name))) return false;
    // A purge removes every version, so a live object of the name must not lose its own.
    if (spaces.some((space) => space.heads.has(lower(name)))) throw new NameInUse(name);
    for (const space of spaces) if (space.deleted.has(lower(name))) removeDeleted(space, name);
    return true;
  }

  async restore(vault: string, collection: Collection, versions: StoredVersion[], latest: string): Promise<StoredHead> {
    const space = this.space(vault, collection);
    const name = restoredName(versions, latest);
    const key = lower(name);
    if (isManaged(space.heads.get(key)) || isManaged(space.deleted.get(key))) throw new ManagedObject(name);
    checkRestore(space, versions, name);
    return writeRestored(space, versions, latest, name);
  }

  async restoreLinked(vault: string, objects: LinkedRestore[]): Promise<StoredHead[]> {
    const names = objects.map((object) => restoredName(object.versions, object.latest));
    checkLinked(
      objects.map((o) => o.collection),
      names,
    );
    const spaces = objects.map(({ collection }) => this.space(vault, collection));
    for (const [i, object] of objects.entries()) checkRestore(spaces[i]!, object.versions, names[i]!);
    return objects.map((object, i) => writeRestored(spaces[i]!, object.versions, object.latest, names[i]!));
  }

  async getAttachment(vault: string, collection: Collection, name: string, attachment: string): Promise<Record<string, unknown> | undefined> {
    const document = this.space(vault, collection).attachments.get(lower(name))?.get(attachment);
    return document && structuredClone(document);
  }

  async putAttachment(vault: string, collection: Collection, name: string, attachment: string, document: Record<string, unknown>): Promise<void> {
    const space = this.space(vault, collection);
    const key = lower(name);
    entryOf(space.attachments, key, () => new Map()).set(attachment, structuredClone(withoutUndefined(document)));
  }

  private space(vault: string, collection: Collection): Space {
    return entryOf(this.spaces, JSON.stringify([vault, collection]), () => ({
      heads: new Map(),
      latestCopies: new Map(),
      deleted: new Map(),
      versions: new Map(),
      attachments: new Map(),
    }));
  }
}

async function retryConflicts<T>(attempt: () => Promise<T | typeof TRY_AGAIN>, name: string): Promise<T> {
  for (let n = 0; n < MAX_WRITE_ATTEMPTS; n++) {
    const result = await attempt();
    if (result !== TRY_AGAIN) return result;
  }
  throw new ConcurrentUpdate(name);
}

/** A managed object (a certificate's key or secret) changes only through the linked writes. */
function isManaged(head: StoredHead | undefined): boolean {
  return head?.plain.managed === true;
}

/** A linked write is about one name in distinct collections (each object once, as one transaction needs). */
function checkLinked(collections: Collection[], names: string[]): void {
  if (collections.length === 0) throw new Error('a linked write needs at least one object');
  if (new Set(collections).size !== collections.length) throw new Error('a linked write names each collection once');
  if (new Set(names.map(lower)).size !== 1) throw new Error('a linked write is about objects of one name');
}

/** Refuses an add onto a deleted name or of a version that exists. */
function checkAdd(space: Space, version: StoredVersion): void {
  const key = lower(version.name);
  if (space.deleted.has(key)) throw new NameIsDeleted(version.name);
  if (space.versions.get(key)?.has(version.version)) throw new Error('the version already exists');
}

function writeVersion(space: Space, version: StoredVersion): StoredHead {
  const key = lower(version.name);
  const current = space.heads.get(key);
  const head = copyHead({
    name: current?.name ?? version.name,
    latest: version.version,
    revision: (current?.revision ?? 0) + 1,
    attributes: version.attributes,
    meta: version.meta,
    plain: version.plain,
  });
  versionsOf(space, key).set(version.version, { version: copyVersion({ ...version, name: head.name }), revision: 0 });
  space.heads.set(key, head);
  space.latestCopies.set(key, copyVersion({ ...version, name: head.name }));
  return copyHead(head);
}

/** What an update read: the head and version whose revisions it must find unchanged. */
interface UpdateRead {
  key: string;
  versionId: string;
  head: StoredHead;
  current: VersionEntry;
}

function readForUpdate(space: Space, name: string, versionId: string): UpdateRead | undefined {
  const key = lower(name);
  const head = space.heads.get(key);
  const current = space.versions.get(key)?.get(versionId);
  return head && current ? { key, versionId, head, current } : undefined;
}

function movedSince(space: Space, read: UpdateRead): boolean {
  const now = space.versions.get(read.key)?.get(read.versionId);
  return now?.revision !== read.current.revision || space.heads.get(read.key)?.revision !== read.head.revision;
}

function applyUpdate(space: Space, { key, versionId, head, current }: UpdateRead, change: MetadataUpdate): StoredVersion {
  const updated = copyVersion({ ...current.version, attributes: change.attributes, meta: change.meta, plain: change.plain });
  space.versions.get(key)!.set(versionId, { version: updated, revision: current.revision + 1 });
  // The head carries a copy of the latest version, so it changes with it.
  if (head.latest === versionId) {
    space.heads.set(key, copyHead({ ...head, revision: head.revision + 1, attributes: change.attributes, meta: change.meta, plain: change.plain }));
    space.latestCopies.set(key, copyVersion(updated));
  }
  return { ...copyVersion(current.version), ...copyUpdate(change) };
}

/** A head and a deleted head never share a name; the DynamoDB store retries until it gives up. */
function checkDelete(space: Space, name: string): void {
  if (space.deleted.has(lower(name))) throw new ConcurrentUpdate(name);
}

function moveToDeleted(space: Space, name: string, dates: { deletedDate: number; scheduledPurgeDate: number }): DeletedHead {
  const key = lower(name);
  const head = space.heads.get(key)!;
  const deleted: DeletedHead = {
    ...copyHead(head),
    revision: head.revision + 1,
    deletedDate: dates.deletedDate,
    scheduledPurgeDate: dates.scheduledPurgeDate,
  };
  space.heads.delete(key);
  space.latestCopies.delete(key);
  space.deleted.set(key, deleted);
  return copyDeleted(deleted);
}

function recoverable(space: Space, name: string): boolean {
  return space.deleted.has(lower(name)) && !space.heads.has(lower(name));
}

function moveToLive(space: Space, name: string): StoredHead {
  const key = lower(name);
  const deleted = space.deleted.get(key)!;
  const head: StoredHead = copyHead({ ...deleted, revision: deleted.revision + 1 });
  space.deleted.delete(key);
  space.heads.set(key, head);
  // Deleted heads carry no copy: the recovered head copies its latest version again.
  const latest = space.versions.get(key)?.get(head.latest);
  if (latest) space.latestCopies.set(key, copyVersion(latest.version));
  return copyHead(head);
}

function removeDeleted(space: Space, name: string): void {
  const key = lower(name);
  space.versions.delete(key);
  space.attachments.delete(key);
  space.deleted.delete(key);
}

/** A restored object takes the casing of its latest version, which must be among its versions. */
function restoredName(versions: StoredVersion[], latest: string): string {
  const latestVersion = versions.find((v) => v.version === latest);
  if (!latestVersion) throw new Error('restore needs its latest version');
  return latestVersion.name;
}

function checkRestore(space: Space, versions: StoredVersion[], name: string): void {
  const key = lower(name);
  if (space.heads.has(key)) throw new NameInUse(name);
  if (space.deleted.has(key)) throw new NameIsDeleted(name);
  // Every version must be new, as the DynamoDB store's conditional puts require.
  const existing = space.versions.get(key);
  const ids = versions.map((v) => v.version);
  if (new Set(ids).size !== ids.length || ids.some((id) => existing?.has(id))) throw new NameInUse(name);
}

function writeRestored(space: Space, versions: StoredVersion[], latest: string, name: string): StoredHead {
  const key = lower(name);
  const latestVersion = versions.find((v) => v.version === latest)!;
  const restored = versionsOf(space, key);
  for (const version of versions) restored.set(version.version, { version: copyVersion({ ...version, name }), revision: 0 });
  const head = copyHead({ name, latest, revision: 1, attributes: latestVersion.attributes, meta: latestVersion.meta, plain: latestVersion.plain });
  space.heads.set(key, head);
  space.latestCopies.set(key, copyVersion({ ...latestVersion, name }));
  return copyHead(head);
}

function lower(name: string): string {
  return name.toLowerCase();
}

function versionsOf(space: Space, key: string): Map<string, VersionEntry> {
  return entryOf(space.versions, key, () => new Map());
}

function entryOf<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const created = create();
  map.set(key, created);
  return created;
}

/**
 * One page in sort-key order after the cursor, which is the previous page's last sort key. Looks one
 * item further than the page, so only a page with more after it carries a cursor.
 */
function pageOf<S, T>(items: Map<string, S>, limit: number, cursor: string | undefined, convert: (item: S) => T): Page<T> {
  const after = sortKeys(items).filter((key) => cursor === undefined || compareUtf8(key, cursor) > 0);
  const pageKeys = after.slice(0, limit);
  const last = pageKeys[pageKeys.length - 1];
  return { items: pageKeys.map((key) => convert(items.get(key)!)), cursor: after.length > limit && last !== undefined ? last : undefined };
}

function sortKeys(items: Map<string, unknown>): string[] {
  return [...items.keys()].sort(compareUtf8);
}

const utf8 = new TextEncoder();

/** DynamoDB orders string sort keys by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/** Optional fields left out, as DynamoDB stores them. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function copyPlain(plain: PlainMetadata | undefined): PlainMetadata {
  return Object.fromEntries(Object.entries(plain ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? [...v] : v]])));
}

function copyUpdate(update: MetadataUpdate): MetadataUpdate {
  return { ...update, attributes: { ...update.attributes }, meta: new Uint8Array(update.meta), plain: copyPlain(update.plain) };
}

function copyHead(head: StoredHead): StoredHead {
  return {
    name: head.name,
    latest: head.latest,
    revision: head.revision,
    attributes: withoutUndefined({ ...head.attributes }),
    meta: new Uint8Array(head.meta),
    plain: copyPlain(head.plain),
  };
}

function copyDeleted(deleted: DeletedHead): DeletedHead {
  return { ...copyHead(deleted), deletedDate: deleted.deletedDate, scheduledPurgeDate: deleted.scheduledPurgeDate };
}

function copyVersion(version: StoredVersion): StoredVersion {
  return {
    name: version.name,
    version: version.version,
    attributes: withoutUndefined({ ...version.attributes }),
    meta: new Uint8Array(version.meta),
    ...(version.secret ? { secret: new Uint8Array(version.secret) } : {}),
    plain: copyPlain(version.plain),
  };
}

function withoutSecret(version: StoredVersion): StoredVersion {
  const { secret: _secret, ...summary } = copyVersion(version);
  return summary;
}
