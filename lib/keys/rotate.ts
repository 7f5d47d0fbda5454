import type { VaultClock } from '../core/clock.ts';
import type { VersionedObjects } from '../objects/collection.ts';
import { createAttributes, newVersionId } from '../objects/rules.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { type KeyMeta, kindOf, plainOf, ROTATION_POLICY, softwarePlain } from './layout.ts';
import type { KeyRecord, RotationPolicyRecord } from './records.ts';
import { defaultRotationPolicy, expiryFromPolicy, type RotationPolicy, validateRotationPolicy } from './rotation.ts';
import type { RotationPolicyInput } from './schemas.ts';
import type { KeyVersions } from './versions.ts';

/** Rotation: a new version like the latest, and the key's rotation policy (an attachment of the key). */
export class KeyRotation {
  constructor(
    private readonly objects: VersionedObjects,
    private readonly content: SealedContent<KeyMeta>,
    private readonly versions: KeyVersions,
    private readonly clock: VaultClock,
  ) {}

  /** A new version with the same type, size or curve, operations and tags; exp from the rotation policy. */
  async rotate(at: VaultAddress, name: string): Promise<KeyRecord> {
    const current = await this.objects.version(at, name, undefined);
    // A certificate's key gets new versions only from its certificate; refused before a KMS key is made.
    this.objects.assertNotManaged(current, 'rotate');
    const plain = plainOf(current);
    const meta = await this.content.openMeta(at.vault, current);
    const policy = await this.policyDocument(at, current.name);
    const now = this.clock(at.vault.name);
    const attributes = createAttributes({ enabled: true, exp: expiryFromPolicy(policy, now) ?? null }, now);
    const kind = kindOf(plain);
    const version = newVersionId();
    if (plain.hsmArn) {
      const next = await this.versions.createHsm(at, current.name, version, kind, plain.keySize, plain.crv, plain.keyOps, plain.publicExponent);
      return this.versions.storeHsm(at, current.name, version, { plain: next, attributes, meta }, 'rotate');
    }
    const generated = await this.versions.generateSoftware(kind, plain.keySize, plain.crv, plain.publicExponent);
    return this.versions.store(
      at,
      current.name,
      version,
      { plain: softwarePlain(kind, generated, plain.keyOps, plain.publicExponent), privatePkcs8: generated.privatePkcs8, attributes, meta },
      'rotate',
    );
  }

  async getPolicy(at: VaultAddress, name: string): Promise<RotationPolicyRecord> {
    const head = await this.objects.head(at, name);
    return { name: head.name, policy: (await this.policyDocument(at, head.name)) ?? defaultRotationPolicy() };
  }

  async setPolicy(at: VaultAddress, name: string, input: RotationPolicyInput): Promise<RotationPolicyRecord> {
    const head = await this.objects.head(at, name);
    // The store does not guard attachments, so this check is the only one.
    this.objects.assertNotManaged(head, 'setrotationpolicy');
    const existing = await this.policyDocument(at, head.name);
    const now = this.clock(at.vault.name);
    // The policy keeps the date it was first set; only `updated` moves with each PUT.
    const policy = validateRotationPolicy(input, { created: existing?.attributes?.created ?? now, updated: now });
    await this.objects.putAttachment(at, head.name, ROTATION_POLICY, policy as unknown as Record<string, unknown>);
    return { name: head.name, policy };
  }

  private async policyDocument(at: VaultAddress, name: string): Promise<RotationPolicy | undefined> {
    return (await this.objects.getAttachment(at, name, ROTATION_POLICY)) as RotationPolicy | undefined;
  }
}
