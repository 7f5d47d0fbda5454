import { nowSeconds } from '../core/clock.ts';
import { BadParameter, Forbidden } from '../core/errors.ts';
import type { BackupProtector } from '../objects/backup.ts';
import {
  assertObjectName,
  assertTags,
  createAttributes,
  newVersionId,
  patchAttributes,
} from '../objects/rules.ts';
import type { ObjectSealer } from '../objects/sealing.ts';
import {
  type DeletedHead,
  type ObjectAttributes,
  type ObjectStore,
  type Page,
  type StoredHead,
  type StoredVersion,
} from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { SetSecretInput, UpdateSecretInput } from './schemas.ts';
import { VersionedObjects } from '../objects/collection.ts';
import {
  type AttributesWire,
  attributesWire,
  mapPage,
  type DeletedFields,
  deletedFields,
} from '../objects/wire.ts';

/**
 * The secrets domain (reference §1.1): rules and wire shapes, storage and crypto behind ports.
 */
export const MAX_SECRET_VALUE_BYTES = 25_600;
export const MAX_CONTENT_TYPE_LENGTH = 255;
export const SECRET_TAG_LIMITS = { maxTags: 15, maxLength: 512 };

const COLLECTION = 'secrets';

/** What a secret stores sealed besides its value. */
interface SecretMeta {
  contentType?: string;
  tags?: Record<string, string>;
}

export type SecretAttributesWire = AttributesWire;

export interface SecretBundle {
  value?: string;
  id: string;
  contentType?: string;
  attributes: SecretAttributesWire;
  tags?: Record<string, string>;
  kid?: string;
  managed?: boolean;
}

export interface SecretItem {
  id: string;
  attributes: SecretAttributesWire;
  tags?: Record<string, string>;
  contentType?: string;
  managed?: boolean;
}

export type { DeletedFields };

export type { VaultAddress };

interface BackupContent {
  collection: 'secrets';
  name: string;
  latest: string;
  versions: { version: string; attributes: ObjectAttributes; plain: StoredVersion['plain']; value: string; meta: SecretMeta }[];
}

export class SecretService {
  private readonly objects: VersionedObjects;

  constructor(
    store: ObjectStore,
    private readonly sealer: ObjectSealer,
    private readonly backups: BackupProtector,
    private readonly clock: () => number = nowSeconds,
  ) {
    this.objects = new VersionedObjects(store, 'Secret', COLLECTION, clock);
  }

  async set(at: VaultAddress, name: string, input: SetSecretInput): Promise<SecretBundle> {
    assertObjectName('secret', name);
    assertSecretValue(input.value);
    assertContentType(input.contentType);
    assertTags(input.tags ?? undefined, SECRET_TAG_LIMITS);
    const version = newVersionId();
    const place = { collection: COLLECTION, name, version } as const;
    const meta = metaOf(input.contentType, input.tags);
    const stored: StoredVersion = {
      name,
      version,
      attributes: createAttributes(input.attributes ?? undefined, this.clock()),
      meta: await this.sealer.sealJson(at.vault, place, 'meta', meta),
      secret: await this.sealer.seal(at.vault, place, 'secret', Buffer.from(input.value, 'utf8')),
      plain: {},
    };
    const head = await this.objects.add(at, stored);
    return this.bundle(at, { ...stored, name: head.name }, meta, input.value);
  }

  async get(at: VaultAddress, name: string, versionParam: string | undefined): Promise<SecretBundle> {
    const version = await this.objects.version(at, name, versionParam);
    if (!version.attributes.enabled) {
      throw new Forbidden('Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    const place = { collection: COLLECTION, name: version.name, version: version.version } as const;
    const meta = await this.sealer.openJson<SecretMeta>(at.vault, place, 'meta', version.meta);
    const value = version.secret ? (await this.sealer.open(at.vault, place, 'secret', version.secret)).toString('utf8') : '';
    return this.bundle(at, version, meta, value);
  }

  async update(at: VaultAddress, name: string, versionParam: string | undefined, input: UpdateSecretInput): Promise<SecretBundle> {
    assertContentType(input.contentType);
    assertTags(input.tags ?? undefined, SECRET_TAG_LIMITS);
    let meta: SecretMeta = {};
    const updated = await this.objects.update(at, name, versionParam, async (current) => {
      const place = { collection: COLLECTION, name: current.name, version: current.version } as const;
      const previous = await this.sealer.openJson<SecretMeta>(at.vault, place, 'meta', current.meta);
      // PATCH: a field present replaces, absent keeps. Tags are replaced as a whole, like Azure.
      meta = metaOf(
        input.contentType === undefined ? previous.contentType : input.contentType,
        input.tags === undefined ? previous.tags : input.tags,
      );
      return {
        attributes: patchAttributes(current.attributes, input.attributes ?? undefined, this.clock()),
        meta: await this.sealer.sealJson(at.vault, place, 'meta', meta),
        plain: current.plain,
      };
    });
    return this.bundle(at, updated, meta, undefined);
  }

  async list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<SecretItem>> {
    return mapPage(await this.objects.listHeads(at, limit, cursor), (head) => this.item(at, head, false));
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<SecretItem>> {
    return mapPage(await this.objects.listVersions(at, name, limit, cursor), (v) => this.item(at, v, true));
  }

  async delete(at: VaultAddress, name: string): Promise<SecretBundle & DeletedFields> {
    return this.deletedBundle(at, await this.objects.softDelete(at, name));
  }

  async getDeleted(at: VaultAddress, name: string): Promise<SecretBundle & DeletedFields> {
    return this.deletedBundle(at, await this.objects.deleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<SecretItem & DeletedFields>> {
    return mapPage(await this.objects.listDeleted(at, limit, cursor), async (deleted) => ({
      ...(await this.item(at, deleted, false)),
      ...this.deletedFields(at, deleted),
    }));
  }

  async recover(at: VaultAddress, name: string): Promise<SecretBundle> {
    const version = await this.objects.recover(at, name);
    const meta = await this.sealer.openJson<SecretMeta>(at.vault, placeOf(version), 'meta', version.meta);
    return this.bundle(at, version, meta, undefined);
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.objects.purge(at, name);
  }

  async backup(at: VaultAddress, name: string): Promise<{ value: string }> {
    const { head, versions } = await this.objects.allVersions(at, name);
    const content: BackupContent = {
      collection: COLLECTION,
      name: head.name,
      latest: head.latest,
      versions: await Promise.all(
        versions.map(async (v) => ({
          version: v.version,
          attributes: v.attributes,
          plain: v.plain,
          value: v.secret ? (await this.sealer.open(at.vault, placeOf(v), 'secret', v.secret)).toString('base64') : '',
          meta: await this.sealer.openJson<SecretMeta>(at.vault, placeOf(v), 'meta', v.meta),
        })),
      ),
    };
    return { value: await this.backups.seal(at.vault.tenantId, COLLECTION, content) };
  }

  async restore(at: VaultAddress, blob: string): Promise<SecretBundle> {
    const content = await this.backups.open<BackupContent>(at.vault.tenantId, COLLECTION, blob);
    if (content.collection !== COLLECTION || !Array.isArray(content.versions)) {
      throw new BadParameter('Backup blob contains invalid or corrupt version.');
    }
    const versions: StoredVersion[] = await Promise.all(
      content.versions.map(async (v) => {
        const place = { collection: COLLECTION, name: content.name, version: v.version } as const;
        return {
          name: content.name,
          version: v.version,
          attributes: v.attributes,
          plain: v.plain,
          meta: await this.sealer.sealJson(at.vault, place, 'meta', v.meta),
          secret: await this.sealer.seal(at.vault, place, 'secret', Buffer.from(v.value, 'base64')),
        };
      }),
    );
    const stored = await this.objects.restore(at, versions, content.latest);
    const latest = content.versions.find((v) => v.version === content.latest)!;
    return this.bundle(at, stored, latest.meta, undefined);
  }

  private async deletedBundle(at: VaultAddress, deleted: DeletedHead): Promise<SecretBundle & DeletedFields> {
    const meta = await this.sealer.openJson<SecretMeta>(at.vault, { collection: COLLECTION, name: deleted.name, version: deleted.latest }, 'meta', deleted.meta);
    const bundle = this.bundle(
      at,
      { name: deleted.name, version: deleted.latest, attributes: deleted.attributes, meta: deleted.meta, plain: deleted.plain },
      meta,
      undefined,
    );
    return { ...this.deletedFields(at, deleted), ...bundle };
  }

  private deletedFields(at: VaultAddress, deleted: DeletedHead): DeletedFields {
    return deletedFields(at.baseUrl, 'Secret', deleted);
  }

  private async item(at: VaultAddress, head: StoredHead, versioned: boolean): Promise<SecretItem> {
    const meta = await this.sealer.openJson<SecretMeta>(at.vault, { collection: COLLECTION, name: head.name, version: head.latest }, 'meta', head.meta);
    const id = versioned ? `${at.baseUrl}/secrets/${head.name}/${head.latest}` : `${at.baseUrl}/secrets/${head.name}`;
    return {
      id,
      attributes: this.attributes(at, head.attributes),
      ...(meta.tags ? { tags: meta.tags } : {}),
      ...(meta.contentType !== undefined ? { contentType: meta.contentType } : {}),
      ...(head.plain.managed === true ? { managed: true } : {}),
    };
  }

  private bundle(at: VaultAddress, version: StoredVersion, meta: SecretMeta, value: string | undefined): SecretBundle {
    return {
      ...(value !== undefined ? { value } : {}),
      id: `${at.baseUrl}/secrets/${version.name}/${version.version}`,
      ...(meta.contentType !== undefined ? { contentType: meta.contentType } : {}),
      attributes: this.attributes(at, version.attributes),
      ...(meta.tags ? { tags: meta.tags } : {}),
      ...(typeof version.plain.kid === 'string' ? { kid: version.plain.kid } : {}),
      ...(version.plain.managed === true ? { managed: true } : {}),
    };
  }

  private attributes(at: VaultAddress, attributes: ObjectAttributes): SecretAttributesWire {
    return attributesWire(at.vault, attributes);
  }
}

function placeOf(version: StoredVersion) {
  return { collection: COLLECTION, name: version.name, version: version.version } as const;
}

function metaOf(contentType: string | null | undefined, tags: Record<string, string> | null | undefined): SecretMeta {
  return {
    ...(contentType != null ? { contentType } : {}),
    ...(tags != null ? { tags } : {}),
  };
}

function assertSecretValue(value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw new BadParameter(`Secret is beyond the maximum permitted length of ${MAX_SECRET_VALUE_BYTES} bytes.`);
  }
}

function assertContentType(contentType: string | null | undefined): void {
  if (contentType != null && contentType.length > MAX_CONTENT_TYPE_LENGTH) {
    throw new BadParameter(`The content type is limited to ${MAX_CONTENT_TYPE_LENGTH} characters.`);
  }
}

