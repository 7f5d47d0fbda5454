import { createHash, createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';
import { type ObjectSealer, SealedContent } from '../objects/sealing.ts';
import type { ObjectAttributes, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { Curve, KeyKind } from './algorithms.ts';
import { HsmChanges, type Warn } from './hsm-changes.ts';
import { type HsmKeys, type HsmSigningAlgorithm, hsmKeySpec } from './hsm.ts';
import { azureCurve, generateSoftwareKey, publicJwkFromSpki } from './jwk.ts';
import { hsmArnsOf, type KeyMeta, type KeyPlain, kmsTags, plainOf, publicPlain, storedPlain } from './layout.ts';

/**
 * The keys a certificate owns (reference §1.3: a certificate's key is a managed key of its name): made
 * or imported here, in software or in KMS like any key, but stored by the certificates domain in one
 * transaction with the certificate and its secret. Signing here is the certificate's own (its
 * self-signature, its CSR), not the Sign operation: that stays the keys domain's.
 */
export interface ManagedKeySpec {
  kind: KeyKind;
  hsm: boolean;
  keySize?: number;
  curve?: Curve;
}

/** A managed key version's material before it is stored: public facts, and the private key unless in KMS. */
export interface ManagedKeyMaterial {
  plain: KeyPlain;
  /** Software keys only; wiped by `wipe` once stored. */
  privatePkcs8?: Buffer;
  /** DER SubjectPublicKeyInfo: what the certificate or CSR carries. */
  spki: Uint8Array;
}

/** RSA managed keys do what Azure's certificate keys do; KMS RSA keys either sign or encrypt, and a certificate's key must sign. */
const SOFTWARE_RSA_OPS = ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
const SIGNING_OPS = ['sign', 'verify'];

const HASH_OF_CURVE: Record<string, 'sha256' | 'sha384' | 'sha512'> = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' };

export class ManagedKeys {
  private readonly content: SealedContent<KeyMeta>;
  private readonly changes: HsmChanges;

  constructor(
    sealer: ObjectSealer,
    private readonly hsm: HsmKeys,
    warn: Warn,
    private readonly kmsKeyTags: Record<string, string> = {},
  ) {
    this.content = new SealedContent<KeyMeta>(sealer, 'keys');
    this.changes = new HsmChanges(warn);
  }

  /** New material: software keys generated here, HSM keys in KMS (for signing). */
  async generate(at: VaultAddress, name: string, version: string, spec: ManagedKeySpec): Promise<ManagedKeyMaterial> {
    if (spec.hsm) {
      const arn = await this.hsm.createHsmKey(hsmKeySpec(spec.kind, spec.keySize, spec.curve), 'SIGN_VERIFY', this.tagsFor(at, name, version));
      try {
        return await this.hsmMaterial(arn, spec.kind);
      } catch (error) {
        await this.discard({ plain: { kty: 'RSA-HSM', keyOps: [], hsmArn: arn }, spki: new Uint8Array() });
        throw error;
      }
    }
    const generated = await generateSoftwareKey(spec.kind === 'RSA' ? { kind: 'RSA', keySize: spec.keySize } : { kind: 'EC', curve: spec.curve });
    return this.softwareMaterial(generated.privatePkcs8, spec.kind);
  }

  /** Material from an imported PKCS#8 key; into KMS when `hsm`. The caller's bytes are not kept or wiped. */
  async import(at: VaultAddress, name: string, version: string, pkcs8: Uint8Array, hsm: boolean): Promise<ManagedKeyMaterial> {
    const copy = Buffer.from(pkcs8);
    const software = this.softwareMaterial(copy, undefined);
    if (!hsm) return software;
    const kind: KeyKind = software.plain.kty === 'RSA' ? 'RSA' : 'EC';
    try {
      const spec = hsmKeySpec(kind, software.plain.keySize, software.plain.crv);
      const arn = await this.hsm.importHsmKey(spec, 'SIGN_VERIFY', copy, this.tagsFor(at, name, version));
      return { ...(await this.hsmMaterial(arn, kind)), spki: software.spki };
    } finally {
      copy.fill(0);
    }
  }

  /** Material of a stored managed key version (a renewal that reuses its key), its private key opened. */
  async open(at: VaultAddress, version: StoredVersion): Promise<ManagedKeyMaterial> {
    const plain = plainOf(version);
    if (plain.hsmArn) return { plain: { ...plain }, spki: await this.hsm.publicKey(plain.hsmArn) };
    if (!version.secret) throw new Error('a software key version without its private key');
    const pkcs8 = await this.content.openSecret(at.vault, version, version.secret);
    return { plain: { ...plain }, privatePkcs8: pkcs8, spki: spkiOfPrivate(pkcs8) };
  }

  /**
   * Signs for the certificate itself: `data` hashed with SHA-256 for RSA and P-256, SHA-384 for
   * P-384, SHA-512 for P-521; RSA PKCS#1 v1.5, ECDSA as DER, as X.509 carries them.
   */
  async sign(material: ManagedKeyMaterial, data: Uint8Array): Promise<Uint8Array> {
    const hash = material.plain.crv ? HASH_OF_CURVE[material.plain.crv] : 'sha256';
    if (!hash) throw new BadParameter(`Curve '${String(material.plain.crv)}' is not supported for certificates: expected P-256, P-384 or P-521.`);
    if (material.plain.hsmArn) {
      const digest = createHash(hash).update(data).digest();
      const algorithm: HsmSigningAlgorithm = material.plain.crv ? (`ECDSA_SHA_${hash.slice(3)}` as HsmSigningAlgorithm) : 'RSASSA_PKCS1_V1_5_SHA_256';
      return this.hsm.signDigest(material.plain.hsmArn, algorithm, digest);
    }
    const key = createPrivateKey({ key: material.privatePkcs8!, format: 'der', type: 'pkcs8' });
    return nodeSign(hash, data, material.plain.crv ? { key, dsaEncoding: 'der' } : key);
  }

  /** The key version as the store keeps it (managed, private key sealed); the material is not wiped. */
  async storedVersion(
    at: VaultAddress,
    name: string,
    version: string,
    material: ManagedKeyMaterial,
    attributes: ObjectAttributes,
  ): Promise<StoredVersion> {
    const place = { name, version };
    return {
      name,
      version,
      attributes,
      meta: await this.content.sealMeta(at.vault, place, {}),
      ...(material.privatePkcs8 ? { secret: await this.content.sealSecret(at.vault, place, material.privatePkcs8) } : {}),
      plain: storedPlain({ ...material.plain, managed: true }),
    };
  }

  /** Seals material to keep while a certificate is pending (its CSR is out with a CA). */
  async sealPending(at: VaultAddress, name: string, pendingVersion: string, material: ManagedKeyMaterial): Promise<Record<string, unknown>> {
    const place = { name, version: pendingVersion };
    return {
      plain: material.plain,
      spki: Buffer.from(material.spki).toString('base64'),
      ...(material.privatePkcs8
        ? { privateKey: Buffer.from(await this.content.sealSecret(at.vault, place, material.privatePkcs8)).toString('base64') }
        : {}),
    };
  }

  async openPending(at: VaultAddress, name: string, pendingVersion: string, sealed: Record<string, unknown>): Promise<ManagedKeyMaterial> {
    const place = { name, version: pendingVersion };
    const privateKey = typeof sealed.privateKey === 'string' ? Buffer.from(sealed.privateKey, 'base64') : undefined;
    return {
      plain: sealed.plain as KeyPlain,
      spki: Buffer.from(String(sealed.spki), 'base64'),
      ...(privateKey ? { privatePkcs8: await this.content.openSecret(at.vault, place, privateKey) } : {}),
    };
  }

  /** Material that will not be stored: its KMS key is scheduled for deletion, its private key wiped. */
  async discard(material: ManagedKeyMaterial): Promise<void> {
    this.wipe(material);
    const arns = material.plain.hsmArn ? [material.plain.hsmArn] : [];
    await this.changes.undoHsm('schedule the deletion of the KMS key of a certificate key that was not stored', arns, (arn) =>
      this.hsm.scheduleKeyDeletion(arn),
    );
  }

  wipe(material: ManagedKeyMaterial): void {
    material.privatePkcs8?.fill(0);
  }

  /** The KMS keys behind these key versions (HSM versions only). */
  arnsOf(versions: Pick<StoredVersion, 'plain'>[]): string[] {
    return [...new Set(hsmArnsOf(versions))];
  }

  /**
   * A KMS change and the store write it goes with (disable on delete, enable on recover, deletion on
   * purge), undone when the write fails, as the keys domain does for its own keys.
   */
  changeThenStore<T>(
    what: string,
    arns: string[],
    apply: 'disable' | 'enable' | 'scheduleDeletion' | 'restore',
    write: () => Promise<T>,
    stillNeedsUndo: () => Promise<boolean>,
  ): Promise<T> {
    const steps = {
      disable: { apply: (a: string) => this.hsm.disableKey(a), undo: (a: string) => this.hsm.enableKey(a) },
      enable: { apply: (a: string) => this.hsm.enableKey(a), undo: (a: string) => this.hsm.disableKey(a) },
      scheduleDeletion: { apply: (a: string) => this.hsm.scheduleKeyDeletion(a), undo: (a: string) => this.hsm.cancelKeyDeletion(a) },
      restore: {
        apply: async (a: string) => {
          await this.hsm.cancelKeyDeletion(a);
          await this.hsm.enableKey(a);
        },
        undo: (a: string) => this.hsm.scheduleKeyDeletion(a),
      },
    }[apply];
    return this.changes.changeHsmThenStore({
      what,
      arns,
      apply: steps.apply,
      write,
      toUndo: async (changed) => ((await stillNeedsUndo()) ? changed : []),
      undo: steps.undo,
    });
  }

  private async hsmMaterial(arn: string, kind: KeyKind): Promise<ManagedKeyMaterial> {
    const spki = await this.hsm.publicKey(arn);
    const jwk = publicJwkFromSpki(spki);
    return {
      plain: {
        ...publicPlain(jwk),
        kty: kind === 'RSA' ? 'RSA-HSM' : 'EC-HSM',
        keyOps: [...SIGNING_OPS],
        hsmArn: arn,
        hsmUsage: 'SIGN_VERIFY',
        ...(kind === 'RSA' ? { keySize: jwk.keySize } : {}),
      },
      spki,
    };
  }

  private softwareMaterial(pkcs8: Buffer, expected: KeyKind | undefined): ManagedKeyMaterial {
    let spki: Uint8Array;
    try {
      spki = spkiOfPrivate(pkcs8);
    } catch {
      throw new BadParameter('The private key is not a valid PKCS#8 key.');
    }
    const jwk = publicJwkFromSpki(spki);
    if (expected && jwk.kty !== expected) throw new Error('generated key of the wrong kind');
    if (jwk.kty === 'EC') {
      const curve = azureCurve(jwk.crv);
      if (curve !== 'P-256' && curve !== 'P-384' && curve !== 'P-521') {
        throw new BadParameter('The certificate key must be RSA or EC on P-256, P-384 or P-521.');
      }
      return { plain: { ...publicPlain(jwk), kty: 'EC', keyOps: [...SIGNING_OPS] }, privatePkcs8: pkcs8, spki };
    }
    if (![2048, 3072, 4096].includes(jwk.keySize ?? 0)) throw new BadParameter('RSA certificate keys must be 2048, 3072 or 4096 bits.');
    return { plain: { ...publicPlain(jwk), kty: 'RSA', keyOps: [...SOFTWARE_RSA_OPS], keySize: jwk.keySize }, privatePkcs8: pkcs8, spki };
  }

  private tagsFor(at: VaultAddress, name: string, version: string): Record<string, string> {
    return { ...this.kmsKeyTags, ...kmsTags(at, name, version) };
  }
}

function spkiOfPrivate(pkcs8: Buffer): Uint8Array {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return createPublicKey(key).export({ format: 'der', type: 'spki' });
}
