/**
 * A managed HSM pool's full backup, full restore and selective key restore
 * (docs/adr/0025-pool-full-backup.md). A backup is a folder of two objects: `manifest.json` (the
 * pool, the domain key's handle, the one-off content key wrapped under the domain key, the iv and
 * tag) and `keys.bin` (every live key of the pool with all its versions: records and material
 * wrapped under the domain key, the whole AES-256-GCM-encrypted inside the HSM under the content
 * key). Nothing in the folder is in the clear that is sealed at rest: tags are inside keys.bin, and
 * key material only ever leaves the HSM wrapped under the domain key.
 *
 * One backup or restore runs per pool at a time (a conditional write on the pool's job lock); the
 * job runs within its request and its record keeps the final state for the status polls.
 */
import { randomBytes } from 'node:crypto';
import { BadParameter, Conflict, NotFound, VaultError } from '../core/errors.ts';
import type { RoleDefinition } from '../access/roles.ts';
import type { KeyMeta } from '../keys/layout.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { ObjectAttributes, ObjectStore, PlainMetadata, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { HsmKeySpec, HsmPublicKey, PoolHsm, WrappedHsmKey } from './hsm-keys.ts';
import { assertPoolActive } from './pool-host.ts';
import { type BackupLocation, folderUrl, type PoolBackupStorage, type PoolBackupStorageFor, parseStorageUri } from './pool-backup-storage.ts';
import type { ManagedHsmPool } from './pools.ts';
import type { HsmRbacStore, HsmRoleAssignment } from './rbac.ts';

const BACKUP_FORMAT = 'coffer-mhsm-backup/1';
const MANIFEST = 'manifest.json';
const CONTENT = 'keys.bin';
const GCM_IV_BYTES = 12;
/** A job lock older than this is a job whose function died: the next start may take it (longer than any function runs). */
const LOCK_SECONDS = 20 * 60;

export type JobKind = 'backup' | 'restore';

/** A job as `GET /backup|restore/{jobId}/pending` answers it (FullBackupOperation, RestoreOperation). */
export interface PoolBackupJob {
  jobId: string;
  kind: JobKind;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  statusDetails: string | null;
  error: { code: string; message: string } | null;
  startTime: number;
  endTime: number | null;
  /** Backups only: where the backup's folder is. */
  azureStorageBlobContainerUri?: string;
}

/** The port of the jobs' records and the pool's one lock; lib/aws/dynamo-pool-backup-jobs.ts implements it. */
export interface PoolBackupJobStore {
  /** Takes the pool's lock for the job if nobody holds it (or its holder's lock expired before `now`); false otherwise. */
  lock(pool: string, jobId: string, now: number, expires: number): Promise<boolean>;
  /** Frees the lock if this job holds it. */
  unlock(pool: string, jobId: string): Promise<void>;
  putJob(pool: string, job: PoolBackupJob): Promise<void>;
  getJob(pool: string, jobId: string): Promise<PoolBackupJob | undefined>;
  /** The pool's lock and every job record: its purge removes them, so its name starts over with none. */
  deletePool(pool: string): Promise<void>;
}

/** What the caller gives: the storage URI (a container) and for a restore the folder. */
export interface BackupTarget {
  storageResourceUri: string;
}

/** The backup's metadata and wrapped material, as keys.bin holds it once decrypted. */
interface BackupContent {
  pool: string;
  keys: BackedUpKey[];
  /** The pool's local RBAC, which Azure's full backup holds and its full restore brings back. */
  rbac: { assignments: HsmRoleAssignment[]; definitions: RoleDefinition[] };
}

/** What backups need of the pool's RBAC store: its assignments and custom roles out, and back in. */
export type PoolBackupRbac = Pick<HsmRbacStore, 'assignments' | 'roleDefinitions' | 'createAssignment' | 'putRoleDefinition'>;

interface BackedUpKey {
  name: string;
  latest: string;
  versions: BackedUpVersion[];
}

interface BackedUpVersion {
  version: string;
  attributes: ObjectAttributes;
  plain: PlainMetadata;
  meta: KeyMeta;
  material: SerializedWrappedKey;
}

type SerializedWrappedKey = Omit<WrappedHsmKey, 'publicKey' | 'wrappedMaterial'> & { publicKey: Record<string, string>; wrappedMaterial: string };

interface Manifest {
  format: typeof BACKUP_FORMAT;
  pool: string;
  folder: string;
  created: number;
  domainKey: string;
  contentKey: SerializedWrappedKey;
  iv: string;
  tag: string;
  keyCount: number;
}

/** What the service needs of the pool's keys: the pool's HSM and the keys domain's address and sealing. */
export interface PoolKeysAccess {
  hsm: PoolHsm;
  at: VaultAddress;
}

export class PoolBackups {
  constructor(
    private readonly objects: ObjectStore,
    private readonly content: SealedContent<KeyMeta>,
    private readonly jobs: PoolBackupJobStore,
    private readonly storageFor: PoolBackupStorageFor,
    private readonly rbac: PoolBackupRbac,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Checks a backup could run now (prebackup): the pool is active, the storage is served, no job holds the lock. */
  async preBackup(pool: ManagedHsmPool, target: BackupTarget): Promise<PoolBackupJob> {
    return this.check(pool, 'backup', () => {
      this.storageFor({ container: parseStorageUri(target.storageResourceUri), folder: folderName(pool.name, this.now()) });
    });
  }

  /** Checks a restore could run now (prerestore): as preBackup, and the folder holds a backup taken under this pool's domain key. */
  async preRestore(pool: ManagedHsmPool, target: BackupTarget, folder: string): Promise<PoolBackupJob> {
    return this.check(pool, 'restore', async () => {
      const storage = this.storageFor({ container: parseStorageUri(target.storageResourceUri), folder });
      checkDomain(pool, await readManifest(storage, folder));
    });
  }

  async backup(pool: ManagedHsmPool, keys: PoolKeysAccess, target: BackupTarget): Promise<PoolBackupJob> {
    const domainKey = domainKeyOf(pool);
    const started = this.now();
    const location: BackupLocation = { container: parseStorageUri(target.storageResourceUri), folder: folderName(pool.name, started) };
    const storage = this.storageFor(location);
    return this.run(pool, 'backup', { azureStorageBlobContainerUri: folderUrl(location) }, async () => {
      if ((await storage.list()).length > 0)
        throw new Conflict(`The backup folder ${location.folder} exists already: start the backup again in a second.`);
      const content: BackupContent = {
        pool: pool.name,
        keys: await this.exportKeys(keys, domainKey),
        rbac: { assignments: await this.rbac.assignments(pool.name), definitions: await this.rbac.roleDefinitions(pool.name) },
      };
      const sealed = await sealContent(keys.hsm, domainKey, location.folder, content);
      await storage.put(CONTENT, sealed.ciphertext);
      const manifest: Manifest = {
        format: BACKUP_FORMAT,
        pool: pool.name,
        folder: location.folder,
        created: started,
        domainKey,
        contentKey: sealed.contentKey,
        iv: sealed.iv,
        tag: sealed.tag,
        keyCount: content.keys.length,
      };
      // The manifest last: a folder without one is a backup that did not finish, and restore refuses it.
      await storage.put(MANIFEST, Buffer.from(JSON.stringify(manifest)));
      return `${content.keys.length} keys backed up.`;
    });
  }

  /** A full restore (`keyName` absent) or a selective key restore of one key and all its versions. */
  async restore(pool: ManagedHsmPool, keys: PoolKeysAccess, target: BackupTarget, folder: string, keyName?: string): Promise<PoolBackupJob> {
    const storage = this.storageFor({ container: parseStorageUri(target.storageResourceUri), folder });
    return this.run(pool, 'restore', {}, async () => {
      const manifest = await readManifest(storage, folder);
      checkDomain(pool, manifest);
      const sealed = await storage.get(CONTENT);
      if (!sealed) throw new BadParameter(`The backup folder ${folder} holds no ${CONTENT}: it is not a complete backup.`);
      const content = await openContent(keys.hsm, manifest, sealed);
      const chosen = keyName === undefined ? content.keys : content.keys.filter((k) => k.name.toLowerCase() === keyName.toLowerCase());
      if (keyName !== undefined && chosen.length === 0) throw new NotFound('KeyNotFound', `The backup ${folder} holds no key ${keyName}.`);
      for (const key of chosen) await this.restoreKey(keys, key);
      // A selective key restore brings back the key only; a full restore the pool's roles too.
      if (keyName === undefined) {
        await this.restoreRbac(pool.name, content.rbac);
        return `${chosen.length} keys and ${content.rbac.assignments.length} role assignments restored.`;
      }
      return `${chosen.length} keys restored.`;
    });
  }

  async job(pool: ManagedHsmPool, kind: JobKind, jobId: string): Promise<PoolBackupJob> {
    const job = await this.jobs.getJob(pool.name, jobId);
    if (!job || job.kind !== kind) throw new NotFound('JobNotFound', `No ${kind} job ${jobId.slice(0, 64)} was found for this managed HSM.`);
    return job;
  }

  private async check(pool: ManagedHsmPool, kind: JobKind, checks: () => unknown): Promise<PoolBackupJob> {
    assertPoolActive(pool);
    domainKeyOf(pool);
    const jobId = newJobId();
    const now = this.now();
    await checks();
    // Take the lock and give it back at once: the check answers whether a job could start now.
    if (!(await this.jobs.lock(pool.name, jobId, now, now + LOCK_SECONDS))) throw jobRunning();
    await this.jobs.unlock(pool.name, jobId);
    const job: PoolBackupJob = {
      jobId,
      kind,
      status: 'Succeeded',
      statusDetails: `A ${kind} can start now.`,
      error: null,
      startTime: now,
      endTime: this.now(),
    };
    await this.jobs.putJob(pool.name, job);
    return job;
  }

  /** Runs a job under the pool's lock and records it; a refusal (4xx) is recorded as Failed and answered as itself. */
  private async run(pool: ManagedHsmPool, kind: JobKind, extra: Partial<PoolBackupJob>, work: () => Promise<string>): Promise<PoolBackupJob> {
    assertPoolActive(pool);
    domainKeyOf(pool);
    const jobId = newJobId();
    const startTime = this.now();
    if (!(await this.jobs.lock(pool.name, jobId, startTime, startTime + LOCK_SECONDS))) throw jobRunning();
    const base = { jobId, kind, startTime, ...extra };
    try {
      await this.jobs.putJob(pool.name, { ...base, status: 'InProgress', statusDetails: null, error: null, endTime: null });
      const details = await work();
      const job: PoolBackupJob = { ...base, status: 'Succeeded', statusDetails: details, error: null, endTime: this.now() };
      await this.jobs.putJob(pool.name, job);
      return job;
    } catch (error) {
      const known = error instanceof VaultError;
      const failure = { code: known ? error.code : 'InternalError', message: known ? error.message : `The ${kind} failed.` };
      await this.jobs.putJob(pool.name, { ...base, status: 'Failed', statusDetails: failure.message, error: failure, endTime: this.now() });
      throw error;
    } finally {
      await this.jobs.unlock(pool.name, jobId);
    }
  }

  /** Every live key and all its versions, each version's material wrapped under the domain key in the HSM. */
  private async exportKeys({ hsm, at }: PoolKeysAccess, domainKey: string): Promise<BackedUpKey[]> {
    const keys: BackedUpKey[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.objects.listHeads(at.vault.name, 'keys', 100, cursor);
      for (const head of page.items) {
        const versions = await this.objects.allVersions(at.vault.name, 'keys', head.name, Number.MAX_SAFE_INTEGER - 1);
        const opened = await this.content.openVersions(at.vault, versions);
        keys.push({
          name: head.name,
          latest: head.latest,
          versions: await Promise.all(
            opened.map(async (v) => {
              const handle = String(v.plain.hsmHandle ?? '');
              if (!handle) throw new Error(`A pool key version without an HSM handle (${head.name}).`);
              return {
                version: v.version,
                attributes: v.attributes,
                plain: v.plain,
                meta: v.meta,
                material: serializeWrapped(await hsm.exportKey(handle, domainKey)),
              };
            }),
          ),
        });
      }
      cursor = page.cursor;
    } while (cursor);
    return keys;
  }

  /**
   * One key back under its name with its versions. Its material is imported into the HSM under its
   * own handle; a handle the token still holds is that very key (handles are unique labels made by
   * the HSM), so it is kept. A key of that name in the pool, live or deleted, is replaced, as Azure
   * does: its versions the backup does not hold are destroyed in the token.
   */
  private async restoreKey({ hsm, at }: PoolKeysAccess, key: BackedUpKey): Promise<void> {
    const restoredHandles = new Set<string>();
    for (const version of key.versions) {
      const wrapped = deserializeWrapped(version.material);
      await hsm.importKey(wrapped).catch(async (error: unknown) => {
        if (!(error instanceof Conflict)) throw error;
        const present = await hsm.describeKey(wrapped.handle);
        if (!sameSpec(present.spec, wrapped.spec))
          throw new Conflict(`The pool's HSM holds another key under the handle of ${key.name}'s version ${version.version}.`);
      });
      restoredHandles.add(wrapped.handle);
    }
    const replaced = await this.removeExisting(at, key.name);
    for (const handle of replaced) if (!restoredHandles.has(handle)) await hsm.deleteKey(handle);
    const sealed = await this.content.sealVersions(
      at.vault,
      key.name,
      key.versions.map((v) => ({ version: v.version, attributes: v.attributes, plain: v.plain, meta: v.meta })),
    );
    await this.objects.restore(at.vault.name, 'keys', sealed, key.latest);
  }

  /**
   * The backup's custom roles first (an assignment may name one), each replacing the pool's of that
   * name; then its assignments, each added where the pool has none of that name. An assignment the
   * pool holds and the backup does not stays: a restore adds grants back, it takes none away.
   */
  private async restoreRbac(pool: string, rbac: BackupContent['rbac']): Promise<void> {
    for (const definition of rbac.definitions) await this.rbac.putRoleDefinition(pool, definition);
    for (const assignment of rbac.assignments) await this.rbac.createAssignment(pool, assignment);
  }

  /** Removes the pool's key of that name, live or deleted, from the store; answers its versions' handles. */
  private async removeExisting(at: VaultAddress, name: string): Promise<string[]> {
    const vault = at.vault.name;
    const live = await this.objects.getHead(vault, 'keys', name);
    const deleted = live ? undefined : await this.objects.getDeleted(vault, 'keys', name);
    if (!live && !deleted) return [];
    const versions: StoredVersion[] = await this.objects.allVersions(vault, 'keys', name, Number.MAX_SAFE_INTEGER - 1);
    if (live) await this.objects.softDelete(vault, 'keys', name, { deletedDate: this.now(), scheduledPurgeDate: this.now() });
    await this.objects.purge(vault, 'keys', name);
    return versions.map((v) => String(v.plain.hsmHandle ?? '')).filter((h) => h !== '');
  }
}

function jobRunning(): Conflict {
  return new Conflict('A backup or restore is already running on this managed HSM: only one runs at a time. Try again when it has finished.');
}

function domainKeyOf(pool: ManagedHsmPool): string {
  const domainKey = pool.securityDomain?.domainKey;
  if (!domainKey) throw new BadParameter(`The managed HSM '${pool.name}' has no security domain: download or upload one first.`);
  return domainKey;
}

function checkDomain(pool: ManagedHsmPool, manifest: Manifest): void {
  if (manifest.domainKey !== domainKeyOf(pool)) {
    throw new BadParameter(
      `The backup ${manifest.folder} was taken under another security domain than this managed HSM's: restore it into a managed HSM that holds the security domain of ${manifest.pool}.`,
    );
  }
}

async function readManifest(storage: PoolBackupStorage, folder: string): Promise<Manifest> {
  const bytes = await storage.get(MANIFEST);
  if (!bytes) throw new BadParameter(`The folder ${folder} holds no backup (no ${MANIFEST}).`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    throw new BadParameter(`The ${MANIFEST} of ${folder} is not valid JSON.`);
  }
  if (manifest?.format !== BACKUP_FORMAT || typeof manifest.domainKey !== 'string' || manifest.folder !== folder) {
    throw new BadParameter(`The ${MANIFEST} of ${folder} is not a ${BACKUP_FORMAT} manifest of this folder.`);
  }
  return manifest;
}

/** Azure's folder name: `mhsm-<pool>-<yyyyMMddHHmmss>` in UTC. */
function folderName(pool: string, unixSeconds: number): string {
  const stamp = new Date(unixSeconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `mhsm-${pool.toLowerCase()}-${stamp}`;
}

function newJobId(): string {
  return randomBytes(16).toString('hex');
}

function additionalData(folder: string): Buffer {
  return Buffer.from(`${BACKUP_FORMAT}/${folder}`);
}

/** keys.bin: the content encrypted in the HSM under a one-off AES-256 key, which leaves the HSM only wrapped under the domain key and is deleted. */
async function sealContent(hsm: PoolHsm, domainKey: string, folder: string, content: BackupContent) {
  const contentKey = await hsm.generateKey({ kty: 'oct', size: 256 });
  try {
    const iv = await hsm.randomBytes(GCM_IV_BYTES);
    const { ciphertext, tag } = await hsm.encrypt(
      contentKey.handle,
      { algorithm: 'A256GCM', iv, additionalData: additionalData(folder) },
      Buffer.from(JSON.stringify(content)),
    );
    const wrapped = await hsm.exportKey(contentKey.handle, domainKey);
    return { ciphertext, iv: iv.toString('base64url'), tag: tag!.toString('base64url'), contentKey: serializeWrapped(wrapped) };
  } finally {
    await hsm.deleteKey(contentKey.handle);
  }
}

async function openContent(hsm: PoolHsm, manifest: Manifest, sealed: Buffer): Promise<BackupContent> {
  const contentKey = await hsm.importKey(deserializeWrapped(manifest.contentKey)).catch((error: unknown) => {
    // A left-over of a restore that died between import and delete: the same one-off key, by its unique handle.
    if (error instanceof Conflict) return { handle: manifest.contentKey.handle };
    throw error;
  });
  try {
    const plaintext = await hsm.decrypt(
      contentKey.handle,
      {
        algorithm: 'A256GCM',
        iv: Buffer.from(manifest.iv, 'base64url'),
        tag: Buffer.from(manifest.tag, 'base64url'),
        additionalData: additionalData(manifest.folder),
      },
      sealed,
    );
    return JSON.parse(plaintext.toString('utf8')) as BackupContent;
  } finally {
    await hsm.deleteKey(contentKey.handle);
  }
}

function serializeWrapped(key: WrappedHsmKey): SerializedWrappedKey {
  const publicKey = Object.fromEntries(Object.entries(key.publicKey).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64url') : String(v)]));
  return { handle: key.handle, spec: key.spec, domainKey: key.domainKey, publicKey, wrappedMaterial: key.wrappedMaterial.toString('base64url') };
}

function deserializeWrapped(key: SerializedWrappedKey): WrappedHsmKey {
  const p = key.publicKey;
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  const publicKey: HsmPublicKey =
    p.kty === 'RSA'
      ? { kty: 'RSA', n: b(p.n), e: b(p.e) }
      : p.kty === 'EC'
        ? { kty: 'EC', crv: p.crv as never, x: b(p.x), y: b(p.y) }
        : { kty: 'oct' };
  return { handle: key.handle, spec: key.spec, domainKey: key.domainKey, publicKey, wrappedMaterial: Buffer.from(key.wrappedMaterial, 'base64url') };
}

function sameSpec(a: HsmKeySpec, b: HsmKeySpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
