import { nowSeconds } from '../core/clock.ts';
import type { BackupProtector } from '../objects/backup.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { type ObjectSealer, SealedContent } from '../objects/sealing.ts';
import type { ObjectStore, Page } from '../objects/store.ts';
import { backupResult } from '../objects/wire.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { KeyBackups } from './backup.ts';
import { HsmChanges, type Warn } from './hsm-changes.ts';
import type { HsmKeys } from './hsm.ts';
import type { KeyMeta } from './layout.ts';
import { KeyLifeCycle } from './life-cycle.ts';
import { type CryptoOperation, KeyOperations } from './operate.ts';
import { KeyRotation } from './rotate.ts';
import type { RotationPolicy } from './rotation.ts';
import type { CreateKeyInput, ImportKeyInput, KeyOperationInput, RotationPolicyInput, UpdateKeyInput, VerifyInput } from './schemas.ts';
import { KeyVersions } from './versions.ts';
import {
  type DeletedKeyBundle,
  type DeletedKeyItem,
  deletedKeyBundle,
  deletedKeyItemPage,
  type KeyBundle,
  type KeyItem,
  type KeyOperationResult,
  type KeyVerifyResult,
  keyBundle,
  keyItemPage,
  keyOperationResult,
  randomBytesResult,
  rotationPolicyWire,
} from './wire.ts';

/**
 * The keys domain (reference §1.2, §3): software keys whose private material is sealed at rest, and
 * HSM-backed keys whose material lives in KMS. One service, made of its parts: the life cycle
 * (life-cycle.ts), new versions (versions.ts), backups (backup.ts), rotation (rotate.ts), the crypto
 * operations with their key cache (operate.ts), and the HSM two-phase changes (hsm-changes.ts).
 */
export type { CryptoOperation, Warn };

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
    clock: () => number = nowSeconds,
  ) {
    const objects = new VersionedObjects(store, 'Key', 'keys', clock);
    const content = new SealedContent<KeyMeta>(sealer, 'keys');
    const changes = new HsmChanges(warn);
    const versions = new KeyVersions(objects, content, hsm, changes, kmsKeyTags);
    this.lifeCycle = new KeyLifeCycle(objects, content, versions, changes, hsm, clock);
    this.backups = new KeyBackups(objects, content, backups, versions, changes, hsm);
    this.rotation = new KeyRotation(objects, content, versions, clock);
    this.operations = new KeyOperations(objects, content, hsm, clock);
  }

  async create(at: VaultAddress, name: string, input: CreateKeyInput): Promise<KeyBundle> {
    return keyBundle(at, await this.lifeCycle.create(at, name, input));
  }

  async import(at: VaultAddress, name: string, input: ImportKeyInput): Promise<KeyBundle> {
    return keyBundle(at, await this.lifeCycle.import(at, name, input));
  }

  async get(at: VaultAddress, name: string, version: string | undefined): Promise<KeyBundle> {
    return keyBundle(at, await this.lifeCycle.get(at, name, version));
  }

  async update(at: VaultAddress, name: string, version: string | undefined, input: UpdateKeyInput): Promise<KeyBundle> {
    return keyBundle(at, await this.lifeCycle.update(at, name, version, input));
  }

  async list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<KeyItem>> {
    return keyItemPage(at, await this.lifeCycle.list(at, limit, cursor));
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<KeyItem>> {
    return keyItemPage(at, await this.lifeCycle.listVersions(at, name, limit, cursor), true);
  }

  async delete(at: VaultAddress, name: string): Promise<DeletedKeyBundle> {
    return deletedKeyBundle(at, await this.lifeCycle.delete(at, name));
  }

  async getDeleted(at: VaultAddress, name: string): Promise<DeletedKeyBundle> {
    return deletedKeyBundle(at, await this.lifeCycle.getDeleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedKeyItem>> {
    return deletedKeyItemPage(at, await this.lifeCycle.listDeleted(at, limit, cursor));
  }

  async recover(at: VaultAddress, name: string): Promise<KeyBundle> {
    return keyBundle(at, await this.lifeCycle.recover(at, name));
  }

  purge(at: VaultAddress, name: string): Promise<void> {
    return this.lifeCycle.purge(at, name);
  }

  async backup(at: VaultAddress, name: string): Promise<{ value: string }> {
    return backupResult(await this.backups.backup(at, name));
  }

  async restore(at: VaultAddress, blob: string): Promise<KeyBundle> {
    return keyBundle(at, await this.backups.restore(at, blob));
  }

  async rotate(at: VaultAddress, name: string): Promise<KeyBundle> {
    return keyBundle(at, await this.rotation.rotate(at, name));
  }

  async getRotationPolicy(at: VaultAddress, name: string): Promise<RotationPolicy> {
    return rotationPolicyWire(at, await this.rotation.getPolicy(at, name));
  }

  async setRotationPolicy(at: VaultAddress, name: string, input: RotationPolicyInput): Promise<RotationPolicy> {
    return rotationPolicyWire(at, await this.rotation.setPolicy(at, name, input));
  }

  async randomBytes(count: number): Promise<{ value: string }> {
    return randomBytesResult(await this.operations.randomBytes(count));
  }

  async operate(
    at: VaultAddress,
    name: string,
    version: string | undefined,
    operation: CryptoOperation,
    input: KeyOperationInput | VerifyInput,
  ): Promise<KeyOperationResult | KeyVerifyResult> {
    return keyOperationResult(at, await this.operations.operate(at, name, version, operation, input));
  }
}
