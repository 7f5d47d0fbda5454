import { LRUCache } from 'lru-cache';
import { nowSeconds } from '../core/clock.ts';
import { BadParameter, describeError, Forbidden } from '../core/errors.ts';
import type { BackupProtector } from '../objects/backup.ts';
import {
  assertObjectName,
  assertTags,
  createAttributes,
  newVersionId,
  patchAttributes,
  printable,
} from '../objects/rules.ts';
import type { ObjectSealer } from '../objects/sealing.ts';
import { type DeletedHead, type ObjectAttributes, type ObjectStore, type Page, type StoredHead, type StoredVersion } from '../objects/store.ts';
import {
  type AttributesWire,
  attributesWire,
  type DeletedFields,
  deletedFields,
} from '../objects/wire.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { recordPage as mapPage } from '../objects/records.ts';
import {
  ALL_KEY_OPS,
  assertDigest,
  assertEncryptionAlgorithm,
  assertSignatureAlgorithm,
  type Curve,
  CURVES,
  defaultKeyOps,
  type KeyKind,
  RSA_KEY_SIZES,
} from './algorithms.ts';
import { derToRaw } from '../crypto/ecdsa-signature.ts';
import { hsmEncryptionAlgorithm, HsmKeyMissing, hsmKeySpec, type HsmKeys, hsmSigningAlgorithm, hsmUsage, opsAllowedByUsage } from './hsm.ts';
import { type GeneratedKey, generateSoftwareKey, importJwk, type PublicJwk, publicJwkFromSpki } from './jwk.ts';
import { decrypt, encrypt, maxPlaintextBytes, signDigest, verifyDigest } from './software.ts';
import type { CreateKeyInput, ImportKeyInput, KeyOperationInput, RotationPolicyInput, UpdateKeyInput, VerifyInput } from './schemas.ts';
import { type RotationPolicy, defaultRotationPolicy, expiryFromPolicy, validateRotationPolicy } from './rotation.ts';

/**
 * The keys domain (reference §1.2, §3): software keys whose private material is sealed at rest, and
 * HSM-backed keys whose material lives in KMS. Public-key operations (verify, encrypt, wrap) run
 * here on the stored public key; private ones run here for software keys and in KMS for HSM keys.
 */
const COLLECTION = 'keys';
export const KEY_TAG_LIMITS = { maxTags: 15, maxLength: 256 };
const ROTATION_POLICY = 'rotationpolicy';

/** What a key version keeps in the clear: public material and service-owned facts. */
interface KeyPlain {
  kty: 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';
  keyOps: string[];
  n?: string;
  e?: string;
  crv?: Curve;
  x?: string;
  y?: string;
  keySize?: number;
  publicExponent?: number;
  /** HSM keys: the KMS key holding this version's material, and what KMS lets it do. */
  hsmArn?: string;
  hsmUsage?: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  managed?: boolean;
}

interface KeyMeta {
  tags?: Record<string, string>;
}

export interface JsonWebKeyWire {
  kid: string;
  kty: string;
  key_ops: string[];
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface KeyBundle {
  key: JsonWebKeyWire;
  attributes: AttributesWire & { exportable: boolean; hsmPlatform?: string };
  tags?: Record<string, string>;
  managed?: boolean;
}

export interface KeyItem {
  kid: string;
  attributes: KeyBundle['attributes'];
  tags?: Record<string, string>;
  managed?: boolean;
}

export type CryptoOperation = 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey' | 'sign' | 'verify';

export interface KeyOperationResult {
  kid: string;
  value: string;
}

interface BackupContent {
  collection: 'keys';
  /** The vault the backup was taken from: HSM versions can only return there (their KMS keys stay). */
  vault: string;
  name: string;
  latest: string;
  versions: { version: string; attributes: ObjectAttributes; plain: KeyPlain; privateKey?: string; meta: KeyMeta }[];
}

/** Where the keys service reports what an operator must look at (a KMS change it could not undo). */
export type Warn = (message: string, details: Record<string, unknown>) => void;

/**
 * One change to the KMS keys of a key's HSM versions, made before the store change it belongs with.
 * KMS goes first so that a failure leaves the key as it was and a retry finds it unchanged; if the
 * store change then fails, the KMS change is undone for the KMS keys the stored state does not need.
 */
interface HsmChange<T> {
  what: string;
  arns: string[];
  apply: (arn: string) => Promise<unknown>;
  write: () => Promise<T>;
  /** After a failed write: which of the changed KMS keys to undo, judged from the store as it is now. */
  toUndo: (changed: string[]) => Promise<string[]>;
  undo: (arn: string) => Promise<unknown>;
}

/** Operations that still work outside a key's nbf/exp window (reference §3). */
const OUTSIDE_WINDOW_OPS: readonly CryptoOperation[] = ['decrypt', 'unwrapKey', 'verify'];

export class KeyService {
  /**
   * Opened private keys of software keys, per container: a warm sign or decrypt neither calls KMS nor
   * decrypts the sealed blob again. Bounded in count and lifetime; evicted material is wiped.
   */
  private readonly openedKeys = new LRUCache<string, Buffer>({ max: 500, ttl: 5 * 60_000, dispose: (key) => key.fill(0) });

  private readonly objects: VersionedObjects;

  constructor(
    private readonly store: ObjectStore,
    private readonly sealer: ObjectSealer,
    private readonly backups: BackupProtector,
    private readonly hsm: HsmKeys,
    private readonly warn: Warn,
    /** Tags every KMS key this service creates carries (the deployment's, see lib/runtime/config.ts). */
    private readonly kmsKeyTags: Record<string, string> = {},
    private readonly clock: () => number = nowSeconds,
  ) {
    this.objects = new VersionedObjects(store, 'Key', COLLECTION, clock);
  }

  async create(at: VaultAddress, name: string, input: CreateKeyInput): Promise<KeyBundle> {
    assertObjectName('key', name);
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    assertNotExportable(input.attributes?.exportable, input.release_policy);
    const { kind, hsm } = this.parseKty(at, input.kty);
    const keyOps = input.key_ops ? assertKeyOps(input.key_ops, kind) : undefined;
    if (input.crv != null && kind !== 'EC') throw new BadParameter(`The 'crv' parameter is only valid for EC keys.`);
    if ((input.key_size != null || input.public_exponent != null) && kind !== 'RSA') {
      throw new BadParameter(`The 'key_size' and 'public_exponent' parameters are only valid for RSA keys.`);
    }
    const curve = kind === 'EC' ? assertCurve(input.crv ?? 'P-256') : undefined;
    const keySize = kind === 'RSA' ? assertKeySize(input.key_size ?? 2048) : undefined;
    const version = newVersionId();
    const attributes = createAttributes(input.attributes ?? undefined, this.clock());
    const meta = metaOf(input.tags);
    if (hsm) {
      // A KMS key costs money and lives on: refuse a name held by a deleted key before making one.
      await this.objects.assertNotDeleted(at, name);
      const plain = await this.createHsmVersion(at, name, version, kind, keySize, curve, keyOps, input.public_exponent ?? undefined);
      return this.storeHsmVersion(at, name, version, { plain, attributes, meta });
    }
    const generated = await generateSoftwareKey(
      kind === 'RSA' ? { kind, keySize, publicExponent: input.public_exponent ?? undefined } : { kind, curve },
    );
    return this.storeNewVersion(at, name, version, {
      plain: softwarePlain(kind, generated, keyOps ?? defaultKeyOps(kind), input.public_exponent ?? undefined),
      privatePkcs8: generated.privatePkcs8,
      attributes,
      meta,
    });
  }

  async import(at: VaultAddress, name: string, input: ImportKeyInput): Promise<KeyBundle> {
    assertObjectName('key', name);
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    assertNotExportable(input.attributes?.exportable, input.release_policy);
    const imported = importJwk(input.key);
    const kty = typeof input.key.kty === 'string' ? input.key.kty : '';
    const hsm = input.Hsm === true || kty.endsWith('-HSM');
    if (hsm) this.assertPremium(at, `${imported.kind}-HSM`);
    const requestedOps = Array.isArray(input.key.key_ops) ? assertKeyOps(input.key.key_ops as string[], imported.kind) : undefined;
    const version = newVersionId();
    const attributes = createAttributes(input.attributes ?? undefined, this.clock());
    const meta = metaOf(input.tags);
    if (hsm) {
      const { usage, keyOps } = hsmUsage(imported.kind, requestedOps);
      const spec = hsmKeySpec(imported.kind, imported.keySize, imported.curve);
      let arn: string;
      try {
        await this.objects.assertNotDeleted(at, name);
        arn = await this.hsm.importHsmKey(spec, usage, imported.privatePkcs8, { ...this.kmsKeyTags, ...kmsTags(at, name, version) });
      } finally {
        imported.privatePkcs8.fill(0);
      }
      const plain: KeyPlain = {
        ...publicPlain(imported.publicJwk),
        kty: imported.kind === 'RSA' ? 'RSA-HSM' : 'EC-HSM',
        keyOps,
        hsmArn: arn,
        hsmUsage: usage,
        ...sizeOf(imported),
      };
      return this.storeHsmVersion(at, name, version, { plain, attributes, meta });
    }
    return this.storeNewVersion(at, name, version, {
      plain: softwarePlain(imported.kind, imported, requestedOps ?? defaultKeyOps(imported.kind), undefined),
      privatePkcs8: imported.privatePkcs8,
      attributes,
      meta,
    });
  }

  async get(at: VaultAddress, name: string, versionParam: string | undefined): Promise<KeyBundle> {
    const version = await this.objects.version(at, name, versionParam);
    return this.bundle(at, version, await this.openMeta(at, version));
  }

  async update(at: VaultAddress, name: string, versionParam: string | undefined, input: UpdateKeyInput): Promise<KeyBundle> {
    assertTags(input.tags ?? undefined, KEY_TAG_LIMITS);
    if (input.release_policy != null) throw new BadParameter('Key release policies are not supported by this vault.');
    let meta: KeyMeta = {};
    const updated = await this.objects.update(at, name, versionParam, async (current) => {
        const plain = current.plain as unknown as KeyPlain;
        const previous = await this.openMeta(at, current);
        meta = input.tags === undefined ? previous : metaOf(input.tags);
        let keyOps = plain.keyOps;
        if (input.key_ops != null) {
          keyOps = assertKeyOps(input.key_ops, kindOf(plain));
          if (plain.hsmUsage) {
            const possible = opsAllowedByUsage(plain.hsmUsage);
            const impossible = keyOps.filter((op) => !possible.includes(op));
            if (impossible.length) {
              throw new BadParameter(`This HSM-backed key's material can only ${possible.join(', ')}; it cannot ${impossible.join(', ')}.`);
            }
          }
        }
        return {
          attributes: patchAttributes(current.attributes, input.attributes ?? undefined, this.clock()),
          meta: await this.sealer.sealJson(at.vault, placeOf(current), 'meta', meta),
          plain: { ...current.plain, keyOps },
        };
      });
    return this.bundle(at, updated, meta);
  }

  async list(at: VaultAddress, limit: number, cursor?: string): Promise<Page<KeyItem>> {
    return mapPage(await this.objects.listHeads(at, limit, cursor), (head) => this.item(at, head, false));
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<KeyItem>> {
    return mapPage(await this.objects.listVersions(at, name, limit, cursor), (v) => this.item(at, v, true));
  }

  async delete(at: VaultAddress, name: string): Promise<KeyBundle & DeletedFields> {
    await this.objects.head(at, name);
    // A deleted HSM key must not be usable even through KMS directly.
    const deleted = await this.changeHsmThenStore({
      what: 're-enable the KMS key of a key whose deletion failed',
      arns: await this.hsmArns(at, name),
      apply: (arn) => this.hsm.disableKey(arn),
      write: () => this.objects.softDelete(at, name),
      toUndo: async (changed) => ((await this.store.getHead(at.vault.name, COLLECTION, name)) ? changed : []),
      undo: (arn) => this.hsm.enableKey(arn),
    });
    return this.deletedBundle(at, deleted);
  }

  async getDeleted(at: VaultAddress, name: string): Promise<KeyBundle & DeletedFields> {
    return this.deletedBundle(at, await this.objects.deleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<KeyItem & DeletedFields>> {
    return mapPage(await this.objects.listDeleted(at, limit, cursor), async (deleted) => ({
      ...(await this.item(at, deleted, false)),
      ...deletedFields(at, 'keys', deleted),
    }));
  }

  async recover(at: VaultAddress, name: string): Promise<KeyBundle> {
    await this.objects.deleted(at, name);
    const version = await this.changeHsmThenStore({
      what: 'disable again the KMS key of a key whose recovery failed',
      arns: await this.hsmArns(at, name),
      apply: (arn) => this.hsm.enableKey(arn),
      write: () => this.objects.recover(at, name),
      toUndo: async (changed) => ((await this.store.getHead(at.vault.name, COLLECTION, name)) ? [] : changed),
      undo: (arn) => this.hsm.disableKey(arn),
    });
    return this.bundle(at, version, await this.openMeta(at, version));
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.objects.assertPurgeable(at, name);
    // KMS deletes material only after its shortest waiting period (7 days); the key is already disabled.
    await this.changeHsmThenStore({
      what: 'cancel the deletion of the KMS key of a key whose purge failed',
      arns: await this.hsmArns(at, name),
      apply: (arn) => this.hsm.scheduleKeyDeletion(arn),
      write: () => this.objects.purge(at, name),
      toUndo: async (changed) => ((await this.store.getDeleted(at.vault.name, COLLECTION, name)) ? changed : []),
      undo: (arn) => this.hsm.cancelKeyDeletion(arn),
    });
  }

  async backup(at: VaultAddress, name: string): Promise<{ value: string }> {
    const { head, versions } = await this.objects.allVersions(at, name);
    const content: BackupContent = {
      collection: COLLECTION,
      vault: at.vault.name,
      name: head.name,
      latest: head.latest,
      versions: await Promise.all(
        versions.map(async (v) => ({
          version: v.version,
          attributes: v.attributes,
          plain: v.plain as unknown as KeyPlain,
          ...(v.secret ? { privateKey: (await this.sealer.open(at.vault, placeOf(v), 'secret', v.secret)).toString('base64') } : {}),
          meta: await this.openMeta(at, v),
        })),
      ),
    };
    return { value: await this.backups.seal(at.vault.tenantId, COLLECTION, content) };
  }

  async restore(at: VaultAddress, blob: string): Promise<KeyBundle> {
    const content = await this.backups.open<BackupContent>(at.vault.tenantId, COLLECTION, blob);
    if (content.collection !== COLLECTION || !Array.isArray(content.versions)) throw new BadParameter('Backup blob contains invalid or corrupt version.');
    const versions: StoredVersion[] = await Promise.all(
      content.versions.map(async (v) => {
        const place = { collection: COLLECTION, name: content.name, version: v.version } as const;
        return {
          name: content.name,
          version: v.version,
          attributes: v.attributes,
          plain: v.plain as unknown as StoredVersion['plain'],
          meta: await this.sealer.sealJson(at.vault, place, 'meta', v.meta),
          ...(v.privateKey ? { secret: await this.sealer.seal(at.vault, place, 'secret', Buffer.from(v.privateKey, 'base64')) } : {}),
        };
      }),
    );
    // HSM material cannot leave KMS, so an HSM backup names its KMS keys, which belong to the vault
    // the backup came from: restoring them elsewhere would give two vaults one key.
    const arns = content.versions.flatMap((v) => (v.plain.hsmArn ? [v.plain.hsmArn] : []));
    if (arns.length > 0 && content.vault !== at.vault.name) {
      throw new BadParameter(
        'A backup of an HSM-backed key can be restored only into the vault it was taken from: its key material never leaves that vault\'s HSM.',
      );
    }
    await this.objects.assertNameFree(at, content.name);
    // The KMS keys were scheduled for deletion by the purge: bring them back before the key reappears.
    const latest = await this.changeHsmThenStore({
      what: 'schedule again the deletion of the KMS key of a key whose restore failed',
      arns,
      apply: async (arn) => {
        await this.hsm.cancelKeyDeletion(arn);
        await this.hsm.enableKey(arn);
      },
      write: () => this.objects.restore(at, versions, content.latest),
      toUndo: (changed) => this.hsmArnsNotInUse(at, content.name, changed),
      undo: (arn) => this.hsm.scheduleKeyDeletion(arn),
    }).catch((error: unknown) => {
      if (error instanceof HsmKeyMissing) throw new BadParameter('The HSM key material this backup refers to no longer exists.');
      throw error;
    });
    const latestMeta = content.versions.find((v) => v.version === content.latest)!.meta;
    return this.bundle(at, latest, latestMeta);
  }

  /** A new version with the same type, size or curve, operations and tags; exp from the rotation policy. */
  async rotate(at: VaultAddress, name: string): Promise<KeyBundle> {
    const current = await this.objects.version(at, name, undefined);
    const plain = current.plain as unknown as KeyPlain;
    const meta = await this.openMeta(at, current);
    const policy = await this.rotationPolicyDocument(at, current.name);
    const now = this.clock();
    const attributes = createAttributes({ enabled: true, exp: expiryFromPolicy(policy, now) ?? null }, now);
    const kind = kindOf(plain);
    const version = newVersionId();
    if (plain.hsmArn) {
      const next = await this.createHsmVersion(at, current.name, version, kind, plain.keySize, plain.crv, plain.keyOps, plain.publicExponent);
      return this.storeHsmVersion(at, current.name, version, { plain: next, attributes, meta });
    }
    const generated = await generateSoftwareKey(
      kind === 'RSA' ? { kind, keySize: plain.keySize, publicExponent: plain.publicExponent } : { kind, curve: plain.crv },
    );
    return this.storeNewVersion(at, current.name, version, {
      plain: softwarePlain(kind, generated, plain.keyOps, plain.publicExponent),
      privatePkcs8: generated.privatePkcs8,
      attributes,
      meta,
    });
  }

  async getRotationPolicy(at: VaultAddress, name: string): Promise<RotationPolicy> {
    const head = await this.objects.head(at, name);
    return this.policyWire(at, head.name, await this.rotationPolicyDocument(at, head.name));
  }

  async setRotationPolicy(at: VaultAddress, name: string, input: RotationPolicyInput): Promise<RotationPolicy> {
    const head = await this.objects.head(at, name);
    const existing = await this.store.getAttachment(at.vault.name, COLLECTION, head.name, ROTATION_POLICY);
    const now = this.clock();
    const policy = validateRotationPolicy(input, {
      created: typeof existing?.created === 'number' ? existing.created : now,
      updated: now,
    });
    await this.store.putAttachment(at.vault.name, COLLECTION, head.name, ROTATION_POLICY, policy as unknown as Record<string, unknown>);
    return this.policyWire(at, head.name, policy);
  }

  async randomBytes(count: number): Promise<{ value: string }> {
    if (!Number.isInteger(count) || count < 1 || count > 128) throw new BadParameter("The 'count' parameter must be an integer between 1 and 128.");
    return { value: Buffer.from(await this.hsm.randomBytes(count)).toString('base64url') };
  }

  /** encrypt, decrypt, wrapKey, unwrapKey, sign and verify, on a named version or the latest. */
  async operate(
    at: VaultAddress,
    name: string,
    versionParam: string | undefined,
    operation: CryptoOperation,
    input: KeyOperationInput | VerifyInput,
  ): Promise<KeyOperationResult | { value: boolean }> {
    const version = await this.objects.version(at, name, versionParam);
    const plain = version.plain as unknown as KeyPlain;
    this.assertUsable(version.attributes, plain, operation);
    const kid = `${at.baseUrl}/keys/${version.name}/${version.version}`;
    const kind = kindOf(plain);
    const publicJwk = publicJwkOf(plain);
    const value = decodeBase64Url(input.value, 'value');

    if (operation === 'sign' || operation === 'verify') {
      const alg = assertSignatureAlgorithm(input.alg, kind, plain.crv);
      if (operation === 'verify') {
        const digest = decodeBase64Url('digest' in input ? input.digest : '', 'digest');
        assertDigest(alg, digest);
        return { value: verifyDigest(publicJwk, alg, digest, value) };
      }
      assertDigest(alg, value);
      if (plain.hsmArn) {
        const signature = await this.hsm.signDigest(plain.hsmArn, hsmSigningAlgorithm(alg), value);
        const raw = kind === 'EC' ? derToRaw(signature, plain.crv!) : Buffer.from(signature);
        return { kid, value: raw.toString('base64url') };
      }
      const privateKey = await this.privateKey(at, version);
      return { kid, value: signDigest(privateKey, kind, plain.crv, alg, value).toString('base64url') };
    }

    const alg = assertEncryptionAlgorithm(input.alg, kind);
    if (plain.hsmArn) hsmEncryptionAlgorithm(alg); // RSA1_5 is refused for HSM keys in both directions
    if (operation === 'encrypt' || operation === 'wrapKey') {
      const limit = maxPlaintextBytes(plain.keySize ?? 2048, alg);
      if (value.length > limit) throw new BadParameter(`The plaintext is too long for this key and algorithm: at most ${limit} bytes.`);
      return { kid, value: encrypt(publicJwk, alg, value).toString('base64url') };
    }
    if (plain.hsmArn) {
      const plaintext = await this.hsm.decryptAsymmetric(plain.hsmArn, hsmEncryptionAlgorithm(alg), value);
      if (!plaintext) throw new BadParameter('The ciphertext could not be decrypted with this key and algorithm.');
      return { kid, value: Buffer.from(plaintext).toString('base64url') };
    }
    return { kid, value: decrypt(await this.privateKey(at, version), alg, value).toString('base64url') };
  }

  private assertUsable(attributes: ObjectAttributes, plain: KeyPlain, operation: CryptoOperation): void {
    if (!attributes.enabled) throw new Forbidden(`Operation ${operation} is not allowed on a disabled key.`, 'KeyDisabled');
    if (!plain.keyOps.includes(operation)) throw new Forbidden(`Operation ${operation} is not permitted on this key.`, 'KeyOperationForbidden');
    if (OUTSIDE_WINDOW_OPS.includes(operation)) return;
    const now = this.clock();
    if (attributes.nbf !== undefined && now < attributes.nbf) {
      throw new Forbidden(`Operation ${operation} is not allowed on a key that is not yet valid.`, 'KeyNotYetValid');
    }
    if (attributes.exp !== undefined && now > attributes.exp) {
      throw new Forbidden(`Operation ${operation} is not allowed on an expired key.`, 'KeyExpired');
    }
  }

  private parseKty(at: VaultAddress, kty: string): { kind: KeyKind; hsm: boolean } {
    switch (kty) {
      case 'RSA':
      case 'EC':
        return { kind: kty, hsm: false };
      case 'RSA-HSM':
      case 'EC-HSM':
        this.assertPremium(at, kty);
        return { kind: kty === 'RSA-HSM' ? 'RSA' : 'EC', hsm: true };
      case 'oct':
      case 'oct-HSM':
        throw new BadParameter(
          `Key type '${kty}' is not supported in this vault: symmetric keys need a Managed HSM, and Coffer vaults hold RSA and EC keys.`,
        );
      default:
        throw new BadParameter(`Invalid key type '${printable(kty)}': expected RSA, RSA-HSM, EC or EC-HSM.`);
    }
  }

  private assertPremium(at: VaultAddress, kty: string): void {
    if (at.vault.sku !== 'premium') throw new BadParameter(`Key type '${kty}' requires a premium vault; this vault is standard.`);
  }

  private async createHsmVersion(
    at: VaultAddress,
    name: string,
    version: string,
    kind: KeyKind,
    keySize: number | undefined,
    curve: Curve | undefined,
    requestedOps: string[] | undefined,
    publicExponent: number | undefined,
  ): Promise<KeyPlain> {
    if (publicExponent !== undefined && publicExponent !== 65537) {
      throw new BadParameter('RSA-HSM keys use the public exponent 65537.');
    }
    const { usage, keyOps } = hsmUsage(kind, requestedOps);
    const arn = await this.hsm.createHsmKey(hsmKeySpec(kind, keySize, curve), usage, { ...this.kmsKeyTags, ...kmsTags(at, name, version) });
    const jwk = await this.hsm
      .publicKey(arn)
      .then(publicJwkFromSpki)
      .catch(async (error: unknown) => {
        await this.undoHsm('schedule the deletion of a KMS key whose public key could not be read', [arn], (a) => this.hsm.scheduleKeyDeletion(a));
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

  private async storeNewVersion(
    at: VaultAddress,
    name: string,
    version: string,
    parts: { plain: KeyPlain; privatePkcs8?: Buffer; attributes: ObjectAttributes; meta: KeyMeta },
  ): Promise<KeyBundle> {
    const place = { collection: COLLECTION, name, version } as const;
    const stored: StoredVersion = {
      name,
      version,
      attributes: parts.attributes,
      meta: await this.sealer.sealJson(at.vault, place, 'meta', parts.meta),
      ...(parts.privatePkcs8 ? { secret: await this.sealer.seal(at.vault, place, 'secret', parts.privatePkcs8) } : {}),
      plain: parts.plain as unknown as StoredVersion['plain'],
    };
    parts.privatePkcs8?.fill(0);
    const head = await this.objects.add(at, stored);
    return this.bundle(at, { ...stored, name: head.name }, parts.meta);
  }

  private async privateKey(at: VaultAddress, version: StoredVersion): Promise<Buffer> {
    if (!version.secret) throw new BadParameter('This key has no private material in this vault.');
    // Versions are immutable, so vault + name + version identifies the material for good.
    const id = `${at.vault.name}/${version.name.toLowerCase()}/${version.version}`;
    const cached = this.openedKeys.get(id);
    if (cached) return cached;
    const opened = await this.sealer.open(at.vault, placeOf(version), 'secret', version.secret);
    this.openedKeys.set(id, opened);
    return opened;
  }

  /** The KMS keys of every version of a live or deleted key. */
  private async hsmArns(at: VaultAddress, name: string): Promise<string[]> {
    return (await this.objects.versionsOf(at, name)).flatMap((v) => {
      const arn = (v.plain as unknown as KeyPlain).hsmArn;
      return arn ? [arn] : [];
    });
  }

  private async hsmArnsNotInUse(at: VaultAddress, name: string, arns: string[]): Promise<string[]> {
    const inUse = new Set(await this.hsmArns(at, name));
    return arns.filter((arn) => !inUse.has(arn));
  }

  /** Stores a version whose KMS key was just made; if the store refuses it, the KMS key goes too. */
  private async storeHsmVersion(
    at: VaultAddress,
    name: string,
    version: string,
    parts: { plain: KeyPlain; attributes: ObjectAttributes; meta: KeyMeta },
  ): Promise<KeyBundle> {
    const arn = parts.plain.hsmArn!;
    return this.changeHsmThenStore({
      what: 'schedule the deletion of the KMS key of a key version that was not stored',
      arns: [arn],
      apply: async () => undefined,
      write: () => this.storeNewVersion(at, name, version, parts),
      toUndo: (changed) => this.hsmArnsNotInUse(at, name, changed),
      undo: (a) => this.hsm.scheduleKeyDeletion(a),
    });
  }

  private async changeHsmThenStore<T>(change: HsmChange<T>): Promise<T> {
    const changed: string[] = [];
    try {
      for (const arn of change.arns) {
        await change.apply(arn);
        changed.push(arn);
      }
      return await change.write();
    } catch (error) {
      if (changed.length > 0) {
        // Judge from the store as it is now: a concurrent request may have made the KMS change right.
        const toUndo = await change.toUndo(changed).catch((checkError: unknown) => {
          this.warn(`could not ${change.what}: the store could not be read, so the KMS keys were left as they are`, {
            kmsKeys: changed,
            error: describeError(checkError),
          });
          return [];
        });
        await this.undoHsm(change.what, toUndo, change.undo);
      }
      throw error;
    }
  }

  /** Best effort: a failed undo is reported for the operator; the caller gets the original error. */
  private async undoHsm(what: string, arns: string[], undo: (arn: string) => Promise<unknown>): Promise<void> {
    for (const arn of [...arns].reverse()) {
      await undo(arn).catch((error: unknown) => this.warn(`could not ${what}`, { kmsKey: arn, error: describeError(error) }));
    }
  }

  private async rotationPolicyDocument(at: VaultAddress, name: string): Promise<RotationPolicy | undefined> {
    return (await this.store.getAttachment(at.vault.name, COLLECTION, name, ROTATION_POLICY)) as RotationPolicy | undefined;
  }

  private policyWire(at: VaultAddress, name: string, policy: RotationPolicy | undefined): RotationPolicy {
    return { ...(policy ?? defaultRotationPolicy()), id: `${at.baseUrl}/keys/${name}/rotationpolicy` };
  }

  private async openMeta(at: VaultAddress, version: Pick<StoredVersion, 'name' | 'version' | 'meta'>): Promise<KeyMeta> {
    return this.sealer.openJson<KeyMeta>(at.vault, { collection: COLLECTION, name: version.name, version: version.version }, 'meta', version.meta);
  }

  private async deletedBundle(at: VaultAddress, deleted: DeletedHead): Promise<KeyBundle & DeletedFields> {
    const version = { name: deleted.name, version: deleted.latest, attributes: deleted.attributes, meta: deleted.meta, plain: deleted.plain };
    return { ...deletedFields(at, 'keys', deleted), ...this.bundle(at, version, await this.openMeta(at, version)) };
  }

  private async item(at: VaultAddress, head: StoredHead, versioned: boolean): Promise<KeyItem> {
    const meta = await this.openMeta(at, { name: head.name, version: head.latest, meta: head.meta });
    return {
      kid: versioned ? `${at.baseUrl}/keys/${head.name}/${head.latest}` : `${at.baseUrl}/keys/${head.name}`,
      attributes: this.attributes(at, head.attributes, head.plain as unknown as KeyPlain),
      ...(meta.tags ? { tags: meta.tags } : {}),
      ...(head.plain.managed === true ? { managed: true } : {}),
    };
  }

  private bundle(at: VaultAddress, version: StoredVersion, meta: KeyMeta): KeyBundle {
    const plain = version.plain as unknown as KeyPlain;
    return {
      key: {
        ...publicJwkOf(plain),
        kid: `${at.baseUrl}/keys/${version.name}/${version.version}`,
        // The stored kty keeps the -HSM suffix the public JWK drops.
        kty: plain.kty,
        key_ops: plain.keyOps,
      } as JsonWebKeyWire,
      attributes: this.attributes(at, version.attributes, plain),
      ...(meta.tags ? { tags: meta.tags } : {}),
      ...(plain.managed === true ? { managed: true } : {}),
    };
  }

  private attributes(at: VaultAddress, attributes: ObjectAttributes, plain: KeyPlain): KeyBundle['attributes'] {
    return { ...attributesWire(at.vault, attributes), exportable: false, ...(plain.hsmArn ? { hsmPlatform: '2' } : {}) };
  }
}

function kindOf(plain: KeyPlain): KeyKind {
  return plain.kty.startsWith('RSA') ? 'RSA' : 'EC';
}

function publicJwkOf(plain: KeyPlain): PublicJwk {
  return plain.kty.startsWith('RSA')
    ? { kty: 'RSA', n: plain.n!, e: plain.e! }
    : { kty: 'EC', crv: plain.crv!, x: plain.x!, y: plain.y! };
}

function publicPlain(jwk: PublicJwk): Pick<KeyPlain, 'n' | 'e' | 'crv' | 'x' | 'y'> {
  return jwk.kty === 'RSA' ? { n: jwk.n!, e: jwk.e! } : { crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
}

function sizeOf(key: GeneratedKey): Pick<KeyPlain, 'keySize'> {
  return key.keySize ? { keySize: key.keySize } : {};
}

function softwarePlain(kind: KeyKind, key: GeneratedKey, keyOps: string[], publicExponent: number | undefined): KeyPlain {
  return {
    ...publicPlain(key.publicJwk),
    kty: kind,
    keyOps,
    ...sizeOf(key),
    ...(publicExponent !== undefined ? { publicExponent } : {}),
  };
}

function placeOf(version: Pick<StoredVersion, 'name' | 'version'>) {
  return { collection: COLLECTION, name: version.name, version: version.version } as const;
}

function metaOf(tags: Record<string, string> | null | undefined): KeyMeta {
  return tags != null ? { tags } : {};
}

function kmsTags(at: VaultAddress, name: string, version: string): Record<string, string> {
  return { 'coffer:vault': at.vault.name, 'coffer:tenant': at.vault.tenantId, 'coffer:key': `${name}/${version}` };
}

function assertKeyOps(ops: string[], kind: KeyKind): string[] {
  for (const op of ops) {
    if (!ALL_KEY_OPS.includes(op)) throw new BadParameter(`Invalid key operation '${printable(String(op))}'.`);
  }
  if (kind === 'EC') {
    const unsupported = ops.filter((op) => ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'].includes(op));
    if (unsupported.length) throw new BadParameter(`EC keys cannot ${unsupported.join(', ')}: they support sign and verify.`);
  }
  return [...new Set(ops)];
}

function assertCurve(crv: string): Curve {
  if (!(CURVES as readonly string[]).includes(crv)) throw new BadParameter(`Invalid curve '${printable(crv)}': expected P-256, P-384, P-521 or P-256K.`);
  return crv as Curve;
}

function assertKeySize(size: number): number {
  if (!(RSA_KEY_SIZES as readonly number[]).includes(size)) throw new BadParameter(`Invalid RSA key size ${size}: expected 2048, 3072 or 4096.`);
  return size;
}

function assertNotExportable(exportable: boolean | null | undefined, releasePolicy: unknown): void {
  if (releasePolicy != null) throw new BadParameter('Key release policies (secure key release) are not supported by this vault.');
  if (exportable === true) throw new BadParameter('Exportable keys must have release policy.');
}

function decodeBase64Url(value: string, field: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new BadParameter(`The '${field}' parameter is not valid base64url.`);
  return Buffer.from(value, 'base64url');
}
