import {
  type Collection,
  ConcurrentUpdate,
  type CurrentObject,
  type DeletedHead,
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
    const key = lower(version.name);
    // Nothing else runs between reading the head and writing the new one, so concurrent adds cannot
    // lose a race here: each lands on top of the previous one.
    if (space.deleted.has(key)) throw new NameIsDeleted(version.name);
    const current = space.heads.get(key);
    const versions = versionsOf(space, key);
    if (versions.has(version.version)) throw new Error('the version already exists');
    const head = copyHead({
      name: current?.name ?? version.name,
      latest: version.version,
      revision: (current?.revision ?? 0) + 1,
      attributes: version.attributes,
      meta: version.meta,
      plain: version.plain,
    });
    versions.set(version.version, { version: copyVersion({ ...version, name: head.name }), revision: 0 });
    space.heads.set(key, head);
    space.latestCopies.set(key, copyVersion({ ...version, name: head.name }));
    return copyHead(head);
  }

  async updateVersion(
    vault: string,
    collection: Collection,
    name: string,
    versionId: string,
    update: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion | undefined> {
    const space = this.space(vault, collection);
    const key = lower(name);
    return retryConflicts(async () => {
      const head = space.heads.get(key);
      if (!head) return undefined;
      const current = space.versions.get(key)?.get(versionId);
      if (!current) return undefined;
      const change = await update(copyVersion(current.version));
      // Another writer changed the version or the head while `update` ran: start again from theirs.
      const now = space.versions.get(key)?.get(versionId);
      if (now?.revision !== current.revision || space.heads.get(key)?.revision !== head.revision) return TRY_AGAIN;
      const updated = copyVersion({ ...now.version, attributes: change.attributes, meta: change.meta, plain: change.plain });
      space.versions.get(key)!.set(versionId, { version: updated, revision: now.revision + 1 });
      // The head carries a copy of the latest version, so it changes with it.
      if (head.latest === versionId) {
        space.heads.set(
          key,
          copyHead({ ...head, revision: head.revision + 1, attributes: change.attributes, meta: change.meta, plain: change.plain }),
        );
        space.latestCopies.set(key, copyVersion(updated));
      }
      return { ...copyVersion(current.version), ...copyUpdate(change) };
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
    const key = lower(name);
    const head = space.heads.get(key);
    if (!head) return undefined;
    // A head and a deleted head never share a name; the DynamoDB store retries until it gives up.
    if (space.deleted.has(key)) throw new ConcurrentUpdate(name);
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

  async getDeleted(vault: string, collection: Collection, name: string): Promise<DeletedHead | undefined> {
    const deleted = this.space(vault, collection).deleted.get(lower(name));
    return deleted && copyDeleted(deleted);
  }

  async listDeleted(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<DeletedHead>> {
    return pageOf(this.space(vault, collection).deleted, limit, cursor, copyDeleted);
  }

  async recover(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined> {
    const space = this.space(vault, collection);
    const key = lower(name);
    const deleted = space.deleted.get(key);
    if (!deleted || space.heads.has(key)) return undefined;
    const head: StoredHead = copyHead({ ...deleted, revision: deleted.revision + 1 });
    space.deleted.delete(key);
    space.heads.set(key, head);
    // Deleted heads carry no copy: the recovered head copies its latest version again.
    const latest = space.versions.get(key)?.get(head.latest);
    if (latest) space.latestCopies.set(key, copyVersion(latest.version));
    return copyHead(head);
  }

  async purge(vault: string, collection: Collection, name: string): Promise<boolean> {
    const space = this.space(vault, collection);
    const key = lower(name);
    if (!space.deleted.has(key)) return false;
    space.versions.delete(key);
    space.attachments.delete(key);
    space.deleted.delete(key);
    return true;
  }

  async restore(vault: string, collection: Collection, versions: StoredVersion[], latest: string): Promise<StoredHead> {
    const latestVersion = versions.find((v) => v.version === latest);
    if (!latestVersion) throw new Error('restore needs its latest version');
    const name = latestVersion.name;
    const space = this.space(vault, collection);
    const key = lower(name);
    if (space.heads.has(key)) throw new NameInUse(name);
    if (space.deleted.has(key)) throw new NameIsDeleted(name);
    // Every version must be new, as the DynamoDB store's conditional puts require.
    const existing = space.versions.get(key);
    const ids = versions.map((v) => v.version);
    if (new Set(ids).size !== ids.length || ids.some((id) => existing?.has(id))) throw new NameInUse(name);
    const restored = versionsOf(space, key);
    for (const version of versions) restored.set(version.version, { version: copyVersion({ ...version, name }), revision: 0 });
    const head = copyHead({ name, latest, revision: 1, attributes: latestVersion.attributes, meta: latestVersion.meta, plain: latestVersion.plain });
    space.heads.set(key, head);
    space.latestCopies.set(key, copyVersion({ ...latestVersion, name }));
    return copyHead(head);
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
