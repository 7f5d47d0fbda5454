/**
 * The port for versioned vault objects (secrets, keys, certificates): what the domain needs from
 * storage, with no storage technology in sight. lib/aws/dynamo-objects.ts implements it on DynamoDB,
 * lib/objects/memory-store.ts in memory for fast tests; test/contract/object-store.contract.ts holds
 * both to the same behaviour.
 *
 * Everything a user stores in an object (values, key material, tags, content types) reaches this port
 * already sealed by the envelope cipher; only names, version ids, dates and flags are in the clear.
 */
import type { Collection } from '../core/kinds.ts';

export type { Collection };

export interface ObjectAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

/** Non-sensitive, service-owned metadata kept in the clear (e.g. `managed`, a key's kty). */
export type PlainMetadata = Record<string, string | number | boolean | string[] | undefined>;

export interface StoredVersion {
  /** The name as first created: names are case-insensitive but keep their casing. */
  name: string;
  version: string;
  attributes: ObjectAttributes;
  /** Sealed user metadata (tags, content type). */
  meta: Uint8Array;
  /** Sealed value or private key material; absent from list results. */
  secret?: Uint8Array;
  plain: PlainMetadata;
}

/** The object's current state: a copy of its latest version's metadata, so lists need one Query. */
export interface StoredHead {
  name: string;
  latest: string;
  /** Bumped on every change of the head; the optimistic-concurrency token. */
  revision: number;
  attributes: ObjectAttributes;
  meta: Uint8Array;
  plain: PlainMetadata;
}

/**
 * A live object and one of its versions, read together in one request so a read or a cryptographic
 * operation costs one round trip. `version` is absent when the object has no such version.
 */
export interface CurrentObject {
  head: StoredHead;
  version?: StoredVersion;
}

export interface DeletedHead extends StoredHead {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface Page<T> {
  items: T[];
  /** The store's position after the last item; absent on the last page. */
  cursor?: string;
}

export interface MetadataUpdate {
  attributes: ObjectAttributes;
  meta: Uint8Array;
  plain: PlainMetadata;
}

/** The name is taken by a soft-deleted object: only recover or purge can free it. */
export class NameIsDeleted extends Error {}
/** The name is taken by a live object (restore onto an existing name). */
export class NameInUse extends Error {}
/** Too many concurrent writers on one object for the retry budget. */
export class ConcurrentUpdate extends Error {}
/**
 * The object is managed (`plain.managed`: a certificate's key or secret): its life follows its
 * certificate, so only the linked writes below change it, never a write of its own collection.
 */
export class ManagedObject extends Error {}

/** One object's part of a linked write: a certificate, its managed key or its managed secret. */
export interface LinkedVersion {
  collection: Collection;
  version: StoredVersion;
}

/** One object's part of a linked metadata change (the same version id in each collection). */
export interface LinkedUpdate {
  collection: Collection;
  update: (current: StoredVersion) => Promise<MetadataUpdate>;
}

/** One object's part of a linked restore. */
export interface LinkedRestore {
  collection: Collection;
  versions: StoredVersion[];
  latest: string;
}

export interface ObjectStore {
  getHead(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined>;
  getVersion(vault: string, collection: Collection, name: string, version: string): Promise<StoredVersion | undefined>;
  /**
   * The live object and its named version, or its latest when `version` is absent, with its sealed
   * secret, read together (one DynamoDB request: the head carries a copy of its latest version, see
   * docs/adr/0008-one-request-reads.md). Nothing is cached, so the next read sees a change of state
   * (disabled, deleted) at once. Undefined when there is no live object of that name.
   */
  getCurrent(vault: string, collection: Collection, name: string, version?: string): Promise<CurrentObject | undefined>;
  /**
   * Adds a version and makes it the latest. Concurrent adds on one name all land. ManagedObject when
   * the head is managed and the version is not.
   */
  addVersion(vault: string, collection: Collection, version: StoredVersion): Promise<StoredHead>;
  /**
   * Changes a version's metadata (and the head's copy when it is the latest); undefined if absent.
   * ManagedObject, before `update` is called, when the object is managed (updateLinkedVersions changes it).
   */
  updateVersion(
    vault: string,
    collection: Collection,
    name: string,
    version: string,
    update: (current: StoredVersion) => Promise<MetadataUpdate>,
  ): Promise<StoredVersion | undefined>;
  listHeads(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<StoredHead>>;
  listVersions(vault: string, collection: Collection, name: string, limit: number, cursor?: string): Promise<Page<StoredVersion>>;
  /** Every version with its sealed secret, for backup; stops after `max + 1` so callers can refuse. */
  allVersions(vault: string, collection: Collection, name: string, max: number): Promise<StoredVersion[]>;
  softDelete(
    vault: string,
    collection: Collection,
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead | undefined>;
  getDeleted(vault: string, collection: Collection, name: string): Promise<DeletedHead | undefined>;
  listDeleted(vault: string, collection: Collection, limit: number, cursor?: string): Promise<Page<DeletedHead>>;
  recover(vault: string, collection: Collection, name: string): Promise<StoredHead | undefined>;
  /** Removes a deleted object and all its versions; false if there was no such deleted object. */
  purge(vault: string, collection: Collection, name: string): Promise<boolean>;
  /** Writes a restored object (all versions, latest as head) if its name is free. */
  restore(vault: string, collection: Collection, versions: StoredVersion[], latest: string): Promise<StoredHead>;
  /**
   * Small per-object documents beside the versions (a key's rotation policy): plain JSON, never user
   * content. Purge removes them with the object.
   */
  getAttachment(vault: string, collection: Collection, name: string, attachment: string): Promise<Record<string, unknown> | undefined>;
  putAttachment(vault: string, collection: Collection, name: string, attachment: string, document: Record<string, unknown>): Promise<void>;

  /*
   * Linked writes: a certificate and its managed key and secret are three objects of one name that
   * change together (reference §1.3). Each is one transaction over all of them: all land or none.
   * Each names one name and each collection at most once; anything else is a programming error (Error).
   * The single-object writes above refuse a managed object, one whose head (or deleted head) has
   * `plain.managed === true`, with ManagedObject: addVersion onto a managed head with a version that
   * is not managed, updateVersion, softDelete, recover and purge of a managed object, and restore
   * onto a name whose head or deleted head is managed. The linked writes refuse nothing for being
   * managed: they are the managed objects' way of changing.
   */
  /**
   * Adds one version to each object (same name; any may be new) and makes each the latest;
   * concurrent adds on those names all land (re-read and retry, as addVersion). NameIsDeleted when
   * any of the names is held by a deleted object. Answers the heads in the order given, each keeping
   * the casing its object was created with.
   */
  addLinkedVersions(vault: string, versions: LinkedVersion[]): Promise<StoredHead[]>;
  /**
   * Changes one version of each object, the heads' copies too; undefined when the first has no such
   * version (or no live object). Another collection without that live object or version is skipped
   * (its `update` is not called). Answers the updated versions, first collection first; a
   * concurrent change of any of them runs every `update` again on what it changed.
   */
  updateLinkedVersions(vault: string, name: string, version: string, updates: LinkedUpdate[]): Promise<StoredVersion[] | undefined>;
  /**
   * Soft-deletes the objects of that name in these collections together, each given the same dates;
   * undefined when the first collection has no live object of that name (the others may be absent:
   * they are skipped). Answers the deleted heads of the objects there were, first collection first.
   */
  softDeleteLinked(
    vault: string,
    collections: Collection[],
    name: string,
    dates: { deletedDate: number; scheduledPurgeDate: number },
  ): Promise<DeletedHead[] | undefined>;
  /**
   * Recovers them together; undefined when the first collection has no deleted object of that name.
   * Another collection without a deleted object of the name is skipped. Answers the recovered heads,
   * first collection first.
   */
  recoverLinked(vault: string, collections: Collection[], name: string): Promise<StoredHead[] | undefined>;
  /**
   * Purges them (each as purge does; the others may be absent); false when the first collection had
   * no deleted object of that name, NameInUse (purging nothing) when any of them is live. The first
   * collection's object goes last, so a purge interrupted half-way is finished by the next one.
   */
  purgeLinked(vault: string, collections: Collection[], name: string): Promise<boolean>;
  /**
   * Restores several objects of one name if every name is free (NameInUse / NameIsDeleted otherwise,
   * writing nothing). Answers the heads in the order given.
   */
  restoreLinked(vault: string, objects: LinkedRestore[]): Promise<StoredHead[]>;
}
