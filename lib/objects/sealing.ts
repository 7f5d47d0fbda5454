import type { EnvelopeCipher } from '../crypto/envelope.ts';
import { objectKeyScope, type Vault } from '../vaults/vault.ts';
import type { Collection, StoredVersion } from './store.ts';

/**
 * Seals and opens the user content of vault objects. Each blob is bound to its vault (KMS encryption
 * context) and to its exact place (vault, collection, name, version, field as GCM additional data).
 */
export type SealedField = 'meta' | 'secret';

export interface ObjectPlace {
  collection: Collection;
  name: string;
  version: string;
}

export class ObjectSealer {
  constructor(private readonly cipher: EnvelopeCipher) {}

  async seal(vault: Vault, place: ObjectPlace, field: SealedField, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.cipher.encrypt(objectKeyScope(vault), aad(vault, place, field), plaintext);
  }

  async open(vault: Vault, place: ObjectPlace, field: SealedField, blob: Uint8Array): Promise<Buffer> {
    return this.cipher.decrypt(objectKeyScope(vault), aad(vault, place, field), blob);
  }

  async sealJson(vault: Vault, place: ObjectPlace, field: SealedField, value: unknown): Promise<Uint8Array> {
    return this.seal(vault, place, field, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  async openJson<T>(vault: Vault, place: ObjectPlace, field: SealedField, blob: Uint8Array): Promise<T> {
    return JSON.parse((await this.open(vault, place, field, blob)).toString('utf8')) as T;
  }
}

/**
 * The sealed fields of one collection's versions, each opened and sealed at the version's own place:
 * `meta` (the kind's JSON: tags, content type) and `secret` (a value or private key).
 */
export class SealedContent<Meta> {
  constructor(
    private readonly sealer: ObjectSealer,
    readonly collection: Collection,
  ) {}

  placeOf(version: Pick<StoredVersion, 'name' | 'version'>): ObjectPlace {
    return { collection: this.collection, name: version.name, version: version.version };
  }

  openMeta(vault: Vault, version: Pick<StoredVersion, 'name' | 'version' | 'meta'>): Promise<Meta> {
    return this.sealer.openJson<Meta>(vault, this.placeOf(version), 'meta', version.meta);
  }

  sealMeta(vault: Vault, version: Pick<StoredVersion, 'name' | 'version'>, meta: Meta): Promise<Uint8Array> {
    return this.sealer.sealJson(vault, this.placeOf(version), 'meta', meta);
  }

  openSecret(vault: Vault, version: Pick<StoredVersion, 'name' | 'version'>, secret: Uint8Array): Promise<Buffer> {
    return this.sealer.open(vault, this.placeOf(version), 'secret', secret);
  }

  sealSecret(vault: Vault, version: Pick<StoredVersion, 'name' | 'version'>, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.sealer.seal(vault, this.placeOf(version), 'secret', plaintext);
  }

  /** Versions opened for a backup blob: the blob is sealed as a whole, so each field leaves its place. */
  openVersions(vault: Vault, versions: StoredVersion[]): Promise<OpenedVersion<Meta>[]> {
    return Promise.all(
      versions.map(async (v) => ({
        version: v.version,
        attributes: v.attributes,
        plain: v.plain,
        meta: await this.openMeta(vault, v),
        ...(v.secret ? { secret: await this.openSecret(vault, v, v.secret) } : {}),
      })),
    );
  }

  /** Opened versions (from a backup) sealed again, each at its place in this vault under `name`. */
  sealVersions(vault: Vault, name: string, versions: OpenedVersion<Meta>[]): Promise<StoredVersion[]> {
    return Promise.all(
      versions.map(async (v) => {
        const place = { name, version: v.version };
        return {
          ...place,
          attributes: v.attributes,
          plain: v.plain,
          meta: await this.sealMeta(vault, place, v.meta),
          ...(v.secret ? { secret: await this.sealSecret(vault, place, v.secret) } : {}),
        };
      }),
    );
  }
}

/** A version with its sealed fields opened: what a backup carries of it. */
export interface OpenedVersion<Meta> {
  version: string;
  attributes: StoredVersion['attributes'];
  plain: StoredVersion['plain'];
  meta: Meta;
  secret?: Buffer;
}

function aad(vault: Vault, place: ObjectPlace, field: SealedField): string {
  return ['coffer', 'v1', vault.name.toLowerCase(), place.collection, place.name.toLowerCase(), place.version, field].join('/');
}
