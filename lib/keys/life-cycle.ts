import type { VaultClock } from '../core/clock.ts';
import type { VersionedObjects } from '../objects/collection.ts';
import { deletedDatesOf, latestOf, recordPage } from '../objects/records.ts';
import { assertObjectName, assertTags, createAttributes, newVersionId, patchAttributes } from '../objects/rules.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { DeletedHead, ObjectAttributes, Page, StoredHead, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { defaultKeyOps, type KeyKind } from './algorithms.ts';
import type { HsmChanges } from './hsm-changes.ts';
import type { HsmKeys } from './hsm.ts';
import { importJwk } from './jwk.ts';
import type { HandleKeys } from './handle-keys.ts';
import { hsmHandlesOf, type KeyMeta, type KeyPlain, kindOf, metaOf, plainOf, softwarePlain } from './layout.ts';
import { type DeletedKeyRecord, type KeyRecord, keyRecord } from './records.ts';
import {
  assertCurve,
  assertHandleKeyOps,
  assertKeyOps,
  assertKeySize,
  assertNoReleasePolicyUpdate,
  assertNotExportable,
  assertOpsPossible,
  assertParametersFit,
  assertPremium,
  defaultHandleKeyOps,
  handleKeyMaterial,
  handleKeyRequest,
  isSymmetricJwk,
  KEY_TAG_LIMITS,
  parseKeyType,
} from './rules.ts';
import type { CreateKeyInput, ImportKeyInput, UpdateKeyInput } from './schemas.ts';
import type { KeyVersions } from './versions.ts';

/**
 * A key's life cycle: create, import, read, update, list, delete, recover and purge. For HSM keys,
 * delete, recover and purge change the KMS keys first and the store second (see hsm-changes.ts).
 */
export class KeyLifeCycle {
  constructor(
    private readonly objects: VersionedObjects,
    private readonly content: SealedContent<KeyMeta>,
    private readonly versions: KeyVersions,
    private readonly changes: HsmChanges,
    private readonly hsm: HsmKeys,
    private readonly clock: VaultClock,
    /** A managed HSM pool's HSM: every key is made there (handle-keys.ts). */
    private readonly handleKeys?: HandleKeys,
  ) {}

  async create(at: VaultAddress, name: string, input: CreateKeyInput): Promise<KeyRecord> {
    assertObjectName('key', name);
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    assertNotExportable(input.attributes?.exportable, input.release_policy);
    if (this.handleKeys) return this.createInHandleHsm(at, name, input, this.handleKeys);
    const { kind, hsm } = parseKeyType(at.vault, input.kty);
    const keyOps = input.key_ops ? assertKeyOps(input.key_ops, kind) : undefined;
    assertParametersFit(kind, input);
    const curve = kind === 'EC' ? assertCurve(input.crv ?? 'P-256') : undefined;
    const keySize = kind === 'RSA' ? assertKeySize(input.key_size ?? 2048) : undefined;
    const publicExponent = input.public_exponent ?? undefined;
    const version = newVersionId();
    const attributes = createAttributes(input.attributes ?? undefined, this.clock(at.vault.name));
    const meta = metaOf(input.tags);
    if (hsm) {
      // A KMS key costs money and lives on: refuse a name held by a deleted or managed key before making one.
      await this.objects.assertVersionAddable(at, name, 'create');
      const plain = await this.versions.createHsm(at, name, version, kind, keySize, curve, keyOps, publicExponent);
      return this.versions.storeHsm(at, name, version, { plain, attributes, meta }, 'create');
    }
    const generated = await this.versions.generateSoftware(kind, keySize, curve, publicExponent);
    // A software key has no side effect before its write: the store refuses a managed name.
    return this.versions.store(
      at,
      name,
      version,
      {
        plain: softwarePlain(kind, generated, keyOps ?? defaultKeyOps(kind), publicExponent),
        privatePkcs8: generated.privatePkcs8,
        attributes,
        meta,
      },
      'create',
    );
  }

  /** A pool's key: generated in its HSM once the name is known to be free, and removed from it again if the store refuses the version. */
  private async createInHandleHsm(at: VaultAddress, name: string, input: CreateKeyInput, handleKeys: HandleKeys): Promise<KeyRecord> {
    const request = handleKeyRequest(input);
    const keyOps = input.key_ops ? assertHandleKeyOps(input.key_ops, request.kind) : defaultHandleKeyOps(request.kind);
    const attributes = createAttributes(input.attributes ?? undefined, this.clock(at.vault.name));
    await this.objects.assertVersionAddable(at, name, 'create');
    const generated = await handleKeys.generate(request);
    return this.storeHandleVersion(at, name, { ...generated, keyOps }, attributes, metaOf(input.tags), 'create', handleKeys);
  }

  /** A pool's import: an AES key's bytes, or an RSA or EC private key, into the pool's HSM; the material is wiped here either way. */
  private async importIntoHandleHsm(at: VaultAddress, name: string, input: ImportKeyInput, handleKeys: HandleKeys): Promise<KeyRecord> {
    const symmetric = isSymmetricJwk(input.key);
    const parsed = symmetric ? { kind: 'oct' as const, material: handleKeyMaterial(input.key) } : importedPrivate(importJwk(input.key));
    let imported: Omit<KeyPlain, 'keyOps'>;
    let keyOps: string[];
    let attributes: ObjectAttributes;
    try {
      const requested = Array.isArray(input.key.key_ops) ? (input.key.key_ops as string[]) : undefined;
      keyOps = requested ? assertHandleKeyOps(requested, parsed.kind) : defaultHandleKeyOps(parsed.kind);
      attributes = createAttributes(input.attributes ?? undefined, this.clock(at.vault.name));
      await this.objects.assertVersionAddable(at, name, 'import');
      imported = symmetric ? await handleKeys.importSymmetric(parsed.material) : await handleKeys.importPrivate(parsed.material);
    } finally {
      parsed.material.fill(0);
    }
    return this.storeHandleVersion(at, name, { ...imported, keyOps }, attributes, metaOf(input.tags), 'import', handleKeys);
  }

  /** Stores a pool key's new version; if the store refuses it, its key leaves the pool's HSM again. */
  private async storeHandleVersion(
    at: VaultAddress,
    name: string,
    plain: KeyPlain,
    attributes: ObjectAttributes,
    meta: KeyMeta,
    operation: 'create' | 'import',
    handleKeys: HandleKeys,
  ): Promise<KeyRecord> {
    try {
      return await this.versions.store(at, name, newVersionId(), { plain, attributes, meta }, operation);
    } catch (error) {
      await this.changes.undoHsm("remove from the pool's HSM the key of a version that was not stored", [plain.hsmHandle!], (handle) =>
        handleKeys.destroy(handle),
      );
      throw error;
    }
  }

  async import(at: VaultAddress, name: string, input: ImportKeyInput): Promise<KeyRecord> {
    assertObjectName('key', name);
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    assertNotExportable(input.attributes?.exportable, input.release_policy);
    if (this.handleKeys) return this.importIntoHandleHsm(at, name, input, this.handleKeys);
    const imported = importJwk(input.key);
    const kty = typeof input.key.kty === 'string' ? input.key.kty : '';
    const hsm = input.Hsm === true || kty.endsWith('-HSM');
    if (hsm) assertPremium(at.vault, `${imported.kind}-HSM`);
    const requestedOps = Array.isArray(input.key.key_ops) ? assertKeyOps(input.key.key_ops as string[], imported.kind) : undefined;
    const version = newVersionId();
    const attributes = createAttributes(input.attributes ?? undefined, this.clock(at.vault.name));
    const meta = metaOf(input.tags);
    if (hsm) {
      const plain = await this.versions.importHsm(at, name, version, imported, requestedOps);
      return this.versions.storeHsm(at, name, version, { plain, attributes, meta }, 'import');
    }
    return this.versions.store(
      at,
      name,
      version,
      {
        plain: softwarePlain(imported.kind, imported, requestedOps ?? defaultKeyOps(imported.kind), undefined),
        privatePkcs8: imported.privatePkcs8,
        attributes,
        meta,
      },
      'import',
    );
  }

  async get(at: VaultAddress, name: string, versionParam: string | undefined): Promise<KeyRecord> {
    return this.record(at, await this.objects.version(at, name, versionParam));
  }

  async update(at: VaultAddress, name: string, versionParam: string | undefined, input: UpdateKeyInput): Promise<KeyRecord> {
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    assertNoReleasePolicyUpdate(input.release_policy);
    let meta: KeyMeta = {};
    const updated = await this.objects.update(at, name, versionParam, async (current) => {
      const plain = plainOf(current);
      const previous = await this.content.openMeta(at.vault, current);
      meta = input.tags === undefined ? previous : metaOf(input.tags);
      let keyOps = plain.keyOps;
      if (input.key_ops != null) {
        keyOps = plain.kty === 'oct-HSM' ? assertHandleKeyOps(input.key_ops, 'oct') : assertKeyOps(input.key_ops, kindOf(plain));
        if (plain.hsmUsage) assertOpsPossible(plain.hsmUsage, keyOps);
      }
      return {
        attributes: patchAttributes(current.attributes, input.attributes ?? undefined, this.clock(at.vault.name)),
        meta: await this.content.sealMeta(at.vault, current, meta),
        plain: { ...current.plain, keyOps },
      };
    });
    return keyRecord(updated, meta);
  }

  /** Each key as its latest version. */
  async list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    return recordPage(await this.objects.listHeads(at, limit, cursor), (head) => this.headRecord(at, head));
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    return recordPage(await this.objects.listVersions(at, name, limit, cursor), (version) => this.headRecord(at, version));
  }

  async delete(at: VaultAddress, name: string): Promise<DeletedKeyRecord> {
    // A certificate's key goes with its certificate: refused before its KMS keys are disabled.
    this.objects.assertNotManaged(await this.objects.head(at, name), 'delete');
    // A deleted HSM key must not be usable even through KMS directly.
    const deleted = await this.changes.changeHsmThenStore({
      what: 're-enable the KMS key of a key whose deletion failed',
      arns: await this.versions.hsmArns(at, name),
      apply: (arn) => this.hsm.disableKey(arn),
      write: () => this.objects.softDelete(at, name),
      toUndo: async (changed) => ((await this.objects.findHead(at, name)) ? changed : []),
      undo: (arn) => this.hsm.enableKey(arn),
    });
    return this.deletedRecord(at, deleted);
  }

  async getDeleted(at: VaultAddress, name: string): Promise<DeletedKeyRecord> {
    return this.deletedRecord(at, await this.objects.deleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedKeyRecord>> {
    return recordPage(await this.objects.listDeleted(at, limit, cursor), (deleted) => this.deletedRecord(at, deleted));
  }

  async recover(at: VaultAddress, name: string): Promise<KeyRecord> {
    this.objects.assertNotManaged(await this.objects.deleted(at, name), 'recover');
    const version = await this.changes.changeHsmThenStore({
      what: 'disable again the KMS key of a key whose recovery failed',
      arns: await this.versions.hsmArns(at, name),
      apply: (arn) => this.hsm.enableKey(arn),
      write: () => this.objects.recover(at, name),
      toUndo: async (changed) => ((await this.objects.findHead(at, name)) ? [] : changed),
      undo: (arn) => this.hsm.disableKey(arn),
    });
    return this.record(at, version);
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.objects.assertPurgeable(at, name);
    // A pool's versions' material goes once their records are gone: a failure leaves an unused HSM object, never a record without its key.
    const handles = this.handleKeys ? hsmHandlesOf(await this.objects.versionsOf(at, name)) : [];
    // KMS deletes material only after its shortest waiting period (7 days); the key is already disabled.
    await this.changes.changeHsmThenStore({
      what: 'cancel the deletion of the KMS key of a key whose purge failed',
      arns: await this.versions.hsmArns(at, name),
      apply: (arn) => this.hsm.scheduleKeyDeletion(arn),
      write: () => this.objects.purge(at, name),
      toUndo: async (changed) => ((await this.objects.findDeleted(at, name)) ? changed : []),
      undo: (arn) => this.hsm.cancelKeyDeletion(arn),
    });
    const { handleKeys } = this;
    if (handleKeys) await this.changes.undoHsm("remove a purged key's material from the pool's HSM", handles, (handle) => handleKeys.destroy(handle));
  }

  private async record(at: VaultAddress, version: StoredVersion): Promise<KeyRecord> {
    return keyRecord(version, await this.content.openMeta(at.vault, version));
  }

  private async headRecord(at: VaultAddress, head: StoredHead): Promise<KeyRecord> {
    return this.record(at, latestOf(head));
  }

  private async deletedRecord(at: VaultAddress, deleted: DeletedHead): Promise<DeletedKeyRecord> {
    return { ...(await this.headRecord(at, deleted)), ...deletedDatesOf(deleted) };
  }
}

function importedPrivate(imported: { kind: KeyKind; privatePkcs8: Buffer }): { kind: KeyKind; material: Buffer } {
  return { kind: imported.kind, material: imported.privatePkcs8 };
}
