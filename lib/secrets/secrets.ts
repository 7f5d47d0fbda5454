import { type VaultClock, vaultClock } from '../core/clock.ts';
import { Forbidden } from '../core/errors.ts';
import type { BackupProtector, ObjectBackup } from '../objects/backup.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { deletedDatesOf, latestOf, recordPage } from '../objects/records.ts';
import { assertObjectName, assertTags, createAttributes, newVersionId, patchAttributes } from '../objects/rules.ts';
import { type ObjectSealer, SealedContent } from '../objects/sealing.ts';
import type { DeletedHead, ObjectAttributes, ObjectStore, Page, StoredHead, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { type DeletedSecretRecord, type SecretMeta, type SecretRecord, secretMeta, secretRecord } from './records.ts';
import { assertContentType, assertSecretValue, SECRET_TAG_LIMITS } from './rules.ts';
import type { SetSecretInput, UpdateSecretInput } from './schemas.ts';

/**
 * The secrets domain (reference §1.1): values and their metadata sealed at rest, versioned, soft
 * deleted and backed up. Answers records; lib/secrets/wire.ts prints them as Azure's shapes.
 */
export type { VaultAddress };

interface BackupVersion {
  version: string;
  attributes: ObjectAttributes;
  plain: StoredVersion['plain'];
  /** The value, base64. */
  value: string;
  meta: SecretMeta;
}

interface SecretBackup extends ObjectBackup<BackupVersion> {
  collection: 'secrets';
}

export class SecretService {
  private readonly objects: VersionedObjects;
  private readonly content: SealedContent<SecretMeta>;

  constructor(
    store: ObjectStore,
    sealer: ObjectSealer,
    private readonly backups: BackupProtector,
    private readonly clock: VaultClock = vaultClock(),
  ) {
    this.objects = new VersionedObjects(store, 'Secret', 'secrets', clock);
    this.content = new SealedContent(sealer, 'secrets');
  }

  async set(at: VaultAddress, name: string, input: SetSecretInput): Promise<SecretRecord> {
    assertObjectName('secret', name);
    assertSecretValue(input.value);
    assertContentType(input.contentType);
    assertTags(input.tags ?? undefined, SECRET_TAG_LIMITS);
    const version = { name, version: newVersionId() };
    const meta = secretMeta(input.contentType, input.tags);
    const stored: StoredVersion = {
      ...version,
      attributes: createAttributes(input.attributes ?? undefined, this.clock(at.vault.name)),
      meta: await this.content.sealMeta(at.vault, version, meta),
      secret: await this.content.sealSecret(at.vault, version, Buffer.from(input.value, 'utf8')),
      plain: {},
    };
    // A certificate's secret is refused by the store's write itself (403 SecretManagedByKeyVault):
    // nothing happens before it, so no head is read first and a set stays one write.
    const head = await this.objects.add(at, stored, 'set');
    return secretRecord({ ...stored, name: head.name }, meta, input.value);
  }

  async get(at: VaultAddress, name: string, versionParam: string | undefined): Promise<SecretRecord> {
    const version = await this.objects.version(at, name, versionParam);
    if (!version.attributes.enabled) {
      throw new Forbidden('Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    const meta = await this.content.openMeta(at.vault, version);
    const value = version.secret ? (await this.content.openSecret(at.vault, version, version.secret)).toString('utf8') : '';
    return secretRecord(version, meta, value);
  }

  async update(at: VaultAddress, name: string, versionParam: string | undefined, input: UpdateSecretInput): Promise<SecretRecord> {
    assertContentType(input.contentType);
    assertTags(input.tags ?? undefined, SECRET_TAG_LIMITS);
    let meta: SecretMeta = {};
    const updated = await this.objects.update(at, name, versionParam, async (current) => {
      const previous = await this.content.openMeta(at.vault, current);
      // PATCH: a field present replaces, absent keeps. Tags are replaced as a whole, like Azure.
      meta = secretMeta(
        input.contentType === undefined ? previous.contentType : input.contentType,
        input.tags === undefined ? previous.tags : input.tags,
      );
      return {
        attributes: patchAttributes(current.attributes, input.attributes ?? undefined, this.clock(at.vault.name)),
        meta: await this.content.sealMeta(at.vault, current, meta),
        plain: current.plain,
      };
    });
    return secretRecord(updated, meta);
  }

  /** Each secret as its latest version. */
  async list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<SecretRecord>> {
    return recordPage(await this.objects.listHeads(at, limit, cursor), (head) => this.headRecord(at, head));
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<SecretRecord>> {
    return recordPage(await this.objects.listVersions(at, name, limit, cursor), (version) => this.headRecord(at, version));
  }

  /**
   * Delete, recover and restore of a certificate's secret are refused by the store, as set is; update,
   * purge and backup on the head they read first (lib/objects/collection.ts).
   */
  async delete(at: VaultAddress, name: string): Promise<DeletedSecretRecord> {
    return this.deletedRecord(at, await this.objects.softDelete(at, name));
  }

  async getDeleted(at: VaultAddress, name: string): Promise<DeletedSecretRecord> {
    return this.deletedRecord(at, await this.objects.deleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedSecretRecord>> {
    return recordPage(await this.objects.listDeleted(at, limit, cursor), (deleted) => this.deletedRecord(at, deleted));
  }

  async recover(at: VaultAddress, name: string): Promise<SecretRecord> {
    const version = await this.objects.recover(at, name);
    return secretRecord(version, await this.content.openMeta(at.vault, version));
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.objects.purge(at, name);
  }

  /** The sealed backup blob of every version. */
  async backup(at: VaultAddress, name: string): Promise<string> {
    const { head, versions } = await this.objects.allVersions(at, name);
    const content: SecretBackup = {
      collection: 'secrets',
      name: head.name,
      latest: head.latest,
      versions: (await this.content.openVersions(at.vault, versions)).map(({ secret, ...v }) => ({
        ...v,
        value: secret ? secret.toString('base64') : '',
      })),
    };
    return this.backups.seal(at.vault.tenantId, 'secrets', content);
  }

  async restore(at: VaultAddress, blob: string): Promise<SecretRecord> {
    const content = await this.backups.openObject<SecretBackup>(at.vault.tenantId, 'secrets', blob);
    // Every secret version has a value, an empty one too: it is sealed like any other.
    const versions = await this.content.sealVersions(
      at.vault,
      content.name,
      content.versions.map(({ value, ...v }) => ({ ...v, secret: Buffer.from(value, 'base64') })),
    );
    const stored = await this.objects.restore(at, versions, content.latest);
    const latest = content.versions.find((v) => v.version === content.latest)!;
    return secretRecord(stored, latest.meta);
  }

  private async headRecord(at: VaultAddress, head: StoredHead): Promise<SecretRecord> {
    const latest = latestOf(head);
    return secretRecord(latest, await this.content.openMeta(at.vault, latest));
  }

  private async deletedRecord(at: VaultAddress, deleted: DeletedHead): Promise<DeletedSecretRecord> {
    return { ...(await this.headRecord(at, deleted)), ...deletedDatesOf(deleted) };
  }
}
