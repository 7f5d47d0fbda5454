import type { VersionedObjects } from '../objects/collection.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { ObjectAttributes, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { Curve, KeyKind } from './algorithms.ts';
import type { HsmChanges } from './hsm-changes.ts';
import { hsmKeySpec, type HsmKeys, hsmUsage } from './hsm.ts';
import { type GeneratedKey, generateSoftwareKey, publicJwkFromSpki } from './jwk.ts';
import { hsmArnsOf, type KeyMeta, type KeyPlain, kmsTags, publicPlain, sizeOf, storedPlain } from './layout.ts';
import { type KeyRecord, keyRecord } from './records.ts';
import { assertHsmExponent } from './rules.ts';

/** The request a new version serves, named in a refusal of a managed key. */
export type KeyVersionOperation = 'create' | 'import' | 'rotate';

/** A version about to be stored: its plain facts, attributes, tags and, for software keys, the private key. */
export interface NewKeyVersion {
  plain: KeyPlain;
  privatePkcs8?: Buffer;
  attributes: ObjectAttributes;
  meta: KeyMeta;
}

/**
 * Making new key versions (create, import, rotate): software material generated here, HSM material
 * generated in or imported into KMS, and storing the version so that a refused write leaves no KMS
 * key behind.
 */
export class KeyVersions {
  constructor(
    private readonly objects: VersionedObjects,
    private readonly content: SealedContent<KeyMeta>,
    private readonly hsm: HsmKeys,
    private readonly changes: HsmChanges,
    /** Tags every KMS key this service creates carries (the deployment's, see lib/runtime/config.ts). */
    private readonly kmsKeyTags: Record<string, string>,
  ) {}

  generateSoftware(kind: KeyKind, keySize: number | undefined, curve: Curve | undefined, publicExponent: number | undefined): Promise<GeneratedKey> {
    return generateSoftwareKey(kind === 'RSA' ? { kind, keySize, publicExponent } : { kind, curve });
  }

  /** A new KMS key for a version; if its public key cannot be read, the KMS key is scheduled for deletion. */
  async createHsm(
    at: VaultAddress,
    name: string,
    version: string,
    kind: KeyKind,
    keySize: number | undefined,
    curve: Curve | undefined,
    requestedOps: string[] | undefined,
    publicExponent: number | undefined,
  ): Promise<KeyPlain> {
    assertHsmExponent(publicExponent);
    const { usage, keyOps } = hsmUsage(kind, requestedOps);
    const arn = await this.hsm.createHsmKey(hsmKeySpec(kind, keySize, curve), usage, this.tagsFor(at, name, version));
    const jwk = await this.hsm
      .publicKey(arn)
      .then(publicJwkFromSpki)
      .catch(async (error: unknown) => {
        await this.changes.undoHsm('schedule the deletion of a KMS key whose public key could not be read', [arn], (a) =>
          this.hsm.scheduleKeyDeletion(a),
        );
        throw error;
      });
    return {
      ...publicPlain(jwk),
      kty: kind === 'RSA' ? 'RSA-HSM' : 'EC-HSM',
      keyOps,
      hsmArn: arn,
      hsmUsage: usage,
      ...(kind === 'RSA' ? { keySize: keySize ?? jwk.keySize } : {}),
    };
  }

  /**
   * Imports material into a new KMS key, refusing first a deleted or managed key's name; the material
   * is wiped either way.
   */
  async importHsm(
    at: VaultAddress,
    name: string,
    version: string,
    imported: GeneratedKey & { kind: KeyKind },
    requestedOps: string[] | undefined,
  ): Promise<KeyPlain> {
    const { usage, keyOps } = hsmUsage(imported.kind, requestedOps);
    const spec = hsmKeySpec(imported.kind, imported.keySize, imported.curve);
    let arn: string;
    try {
      await this.objects.assertVersionAddable(at, name, 'import');
      arn = await this.hsm.importHsmKey(spec, usage, imported.privatePkcs8, this.tagsFor(at, name, version));
    } finally {
      imported.privatePkcs8.fill(0);
    }
    return {
      ...publicPlain(imported.publicJwk),
      kty: imported.kind === 'RSA' ? 'RSA-HSM' : 'EC-HSM',
      keyOps,
      hsmArn: arn,
      hsmUsage: usage,
      ...sizeOf(imported),
    };
  }

  /** Seals and stores a version as the latest; the private key is wiped once sealed. */
  async store(at: VaultAddress, name: string, version: string, parts: NewKeyVersion, operation: KeyVersionOperation): Promise<KeyRecord> {
    const place = { name, version };
    const stored: StoredVersion = {
      name,
      version,
      attributes: parts.attributes,
      meta: await this.content.sealMeta(at.vault, place, parts.meta),
      ...(parts.privatePkcs8 ? { secret: await this.content.sealSecret(at.vault, place, parts.privatePkcs8) } : {}),
      plain: storedPlain(parts.plain),
    };
    parts.privatePkcs8?.fill(0);
    const head = await this.objects.add(at, stored, operation);
    return keyRecord({ ...stored, name: head.name }, parts.meta);
  }

  /** Stores a version whose KMS key was just made; if the store refuses it, the KMS key goes too. */
  async storeHsm(at: VaultAddress, name: string, version: string, parts: NewKeyVersion, operation: KeyVersionOperation): Promise<KeyRecord> {
    const arn = parts.plain.hsmArn!;
    return this.changes.changeHsmThenStore({
      what: 'schedule the deletion of the KMS key of a key version that was not stored',
      arns: [arn],
      apply: async () => undefined,
      write: () => this.store(at, name, version, parts, operation),
      toUndo: (changed) => this.hsmArnsNotInUse(at, name, changed),
      undo: (a) => this.hsm.scheduleKeyDeletion(a),
    });
  }

  /** The KMS keys of every version of a live or deleted key. */
  async hsmArns(at: VaultAddress, name: string): Promise<string[]> {
    return hsmArnsOf(await this.objects.versionsOf(at, name));
  }

  async hsmArnsNotInUse(at: VaultAddress, name: string, arns: string[]): Promise<string[]> {
    const inUse = new Set(await this.hsmArns(at, name));
    return arns.filter((arn) => !inUse.has(arn));
  }

  private tagsFor(at: VaultAddress, name: string, version: string): Record<string, string> {
    return { ...this.kmsKeyTags, ...kmsTags(at, name, version) };
  }
}
