import { type VaultClock, vaultClock } from '../core/clock.ts';
import type { BackupProtector } from '../objects/backup.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { type ObjectSealer, SealedContent } from '../objects/sealing.ts';
import type { ObjectStore, Page } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { KeyBackups } from './backup.ts';
import { HsmChanges, type Warn } from './hsm-changes.ts';
import type { HandleKeys } from './handle-keys.ts';
import type { HsmKeys } from './hsm.ts';
import type { KeyMeta } from './layout.ts';
import { KeyLifeCycle } from './life-cycle.ts';
import { type CryptoOperation, KeyOperations } from './operate.ts';
import { KeyRotation } from './rotate.ts';
import { keyAttestationNotSupported, secureKeyReleaseNotSupported } from './rules.ts';
import type { CreateKeyInput, ImportKeyInput, KeyOperationInput, RotationPolicyInput, UpdateKeyInput, VerifyInput } from './schemas.ts';
import { KeyVersions } from './versions.ts';
import type { DeletedKeyRecord, KeyOperationRecord, KeyRecord, RotationPolicyRecord, VerifyRecord } from './records.ts';

/**
 * The keys domain (reference §1.2, §3): software keys whose private material is sealed at rest, and
 * HSM-backed keys whose material lives in KMS. One service, made of its parts: the life cycle
 * (life-cycle.ts), new versions (versions.ts), backups (backup.ts), rotation (rotate.ts), the crypto
 * operations with their key cache (operate.ts), and the HSM two-phase changes (hsm-changes.ts). It
 * answers records; lib/keys/wire.ts prints them as Azure's shapes.
 */
export type { CryptoOperation, Warn };

/** What every part of the domain works on: the keys' versions in the store, and their sealed content. */
function keyObjects(store: ObjectStore, sealer: ObjectSealer, clock: VaultClock) {
  return { objects: new VersionedObjects(store, 'Key', 'keys', clock), content: new SealedContent<KeyMeta>(sealer, 'keys') };
}

/**
 * A key's life cycle alone (create, import, read, update, list, delete, recover, purge), wired as
 * `KeyService` wires it, for a root whose functions do nothing else with keys: a managed HSM
 * pool's (lib/runtime/hsm-keys.ts) bundles no backups, rotation or crypto operations. It tags no
 * KMS key: a pool's keys have none (docs/adr/0024-keys-in-pools.md).
 */
export function keyLifeCycle(
  store: ObjectStore,
  sealer: ObjectSealer,
  hsm: HsmKeys,
  warn: Warn,
  clock: VaultClock,
  handleKeys?: HandleKeys,
): Pick<
  KeyService,
  'create' | 'import' | 'get' | 'update' | 'list' | 'listVersions' | 'delete' | 'getDeleted' | 'listDeleted' | 'recover' | 'purge'
> {
  const { objects, content } = keyObjects(store, sealer, clock);
  const changes = new HsmChanges(warn);
  return new KeyLifeCycle(objects, content, new KeyVersions(objects, content, hsm, changes, {}), changes, hsm, clock, handleKeys);
}

/** The crypto operations and random bytes alone, wired as `KeyService` wires them, for the same reason: no life cycle, backups or rotation. */
export function keyCryptoOperations(
  store: ObjectStore,
  sealer: ObjectSealer,
  hsm: HsmKeys,
  clock: VaultClock,
  handleKeys?: HandleKeys,
): Pick<KeyService, 'operate' | 'randomBytes'> {
  const { objects, content } = keyObjects(store, sealer, clock);
  return new KeyOperations(objects, content, hsm, clock, handleKeys);
}

export class KeyService {
  private readonly lifeCycle: KeyLifeCycle;
  private readonly backups: KeyBackups;
  private readonly rotation: KeyRotation;
  private readonly operations: KeyOperations;

  constructor(
    store: ObjectStore,
    sealer: ObjectSealer,
    backups: BackupProtector,
    hsm: HsmKeys,
    warn: Warn,
    /** Tags every KMS key this service creates carries (the deployment's, see lib/runtime/config.ts). */
    kmsKeyTags: Record<string, string> = {},
    clock: VaultClock = vaultClock(),
    /** A managed HSM pool's HSM: its keys are made and used there, and the KMS port is not used (docs/adr/0024-keys-in-pools.md). */
    handleKeys?: HandleKeys,
  ) {
    const { objects, content } = keyObjects(store, sealer, clock);
    const changes = new HsmChanges(warn);
    const versions = new KeyVersions(objects, content, hsm, changes, kmsKeyTags);
    this.lifeCycle = new KeyLifeCycle(objects, content, versions, changes, hsm, clock, handleKeys);
    this.backups = new KeyBackups(objects, content, backups, versions, changes, hsm);
    this.rotation = new KeyRotation(objects, content, versions, clock);
    this.operations = new KeyOperations(objects, content, hsm, clock, handleKeys);
  }

  create(at: VaultAddress, name: string, input: CreateKeyInput): Promise<KeyRecord> {
    return this.lifeCycle.create(at, name, input);
  }

  import(at: VaultAddress, name: string, input: ImportKeyInput): Promise<KeyRecord> {
    return this.lifeCycle.import(at, name, input);
  }

  /** The named version, or the latest when the version is empty or absent. */
  get(at: VaultAddress, name: string, version: string | undefined): Promise<KeyRecord> {
    return this.lifeCycle.get(at, name, version);
  }

  update(at: VaultAddress, name: string, version: string | undefined, input: UpdateKeyInput): Promise<KeyRecord> {
    return this.lifeCycle.update(at, name, version, input);
  }

  /** Each key as its latest version. */
  list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    return this.lifeCycle.list(at, limit, cursor);
  }

  listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    return this.lifeCycle.listVersions(at, name, limit, cursor);
  }

  delete(at: VaultAddress, name: string): Promise<DeletedKeyRecord> {
    return this.lifeCycle.delete(at, name);
  }

  getDeleted(at: VaultAddress, name: string): Promise<DeletedKeyRecord> {
    return this.lifeCycle.getDeleted(at, name);
  }

  listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedKeyRecord>> {
    return this.lifeCycle.listDeleted(at, limit, cursor);
  }

  recover(at: VaultAddress, name: string): Promise<KeyRecord> {
    return this.lifeCycle.recover(at, name);
  }

  purge(at: VaultAddress, name: string): Promise<void> {
    return this.lifeCycle.purge(at, name);
  }

  /** The sealed backup blob of every version. */
  backup(at: VaultAddress, name: string): Promise<string> {
    return this.backups.backup(at, name);
  }

  restore(at: VaultAddress, blob: string): Promise<KeyRecord> {
    return this.backups.restore(at, blob);
  }

  rotate(at: VaultAddress, name: string): Promise<KeyRecord> {
    return this.rotation.rotate(at, name);
  }

  getRotationPolicy(at: VaultAddress, name: string): Promise<RotationPolicyRecord> {
    return this.rotation.getPolicy(at, name);
  }

  setRotationPolicy(at: VaultAddress, name: string, input: RotationPolicyInput): Promise<RotationPolicyRecord> {
    return this.rotation.setPolicy(at, name, input);
  }

  /** Secure key release is not offered: always Azure's not-supported 400, before any store call. */
  release(): Promise<never> {
    return Promise.reject(secureKeyReleaseNotSupported());
  }

  /** Nor is key attestation. */
  getAttestation(): Promise<never> {
    return Promise.reject(keyAttestationNotSupported());
  }

  randomBytes(count: number): Promise<Uint8Array> {
    return this.operations.randomBytes(count);
  }

  /** encrypt, decrypt, wrapKey, unwrapKey and sign answer the result bytes; verify answers the verdict. */
  operate(
    at: VaultAddress,
    name: string,
    version: string | undefined,
    operation: CryptoOperation,
    input: KeyOperationInput | VerifyInput,
  ): Promise<KeyOperationRecord | VerifyRecord> {
    return this.operations.operate(at, name, version, operation, input);
  }
}
