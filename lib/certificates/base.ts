import { type VaultClock, vaultClock } from '../core/clock.ts';
import { NotFound } from '../core/errors.ts';
import type { HsmKeys } from '../keys/hsm.ts';
import type { Warn } from '../keys/hsm-changes.ts';
import { ManagedKeys } from '../keys/managed-keys.ts';
import type { BackupProtector } from '../objects/backup.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { type ObjectSealer, SealedContent } from '../objects/sealing.ts';
import type { Collection, ObjectStore } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { BadParameter } from '../core/errors.ts';
import { printable } from '../core/names.ts';
import { SELF_ISSUER, UNKNOWN_ISSUER } from './policy.ts';
import type { CertificateDocuments } from './documents.ts';
import { CertificateOperations } from './pending.ts';
import type { CertificatePolicy } from './records.ts';
import { CertificateSettings } from './settings.ts';

/** What the certificates domain is built from (lib/runtime/certificates.ts wires it). */
export interface CertificateServiceParts {
  objects: ObjectStore;
  sealer: ObjectSealer;
  backups: BackupProtector;
  documents: CertificateDocuments;
  hsm: HsmKeys;
  warn: Warn;
  /** Tags every KMS key this service creates carries (the deployment's, see lib/runtime/config.ts). */
  kmsKeyTags?: Record<string, string>;
  clock?: VaultClock;
}

/** The three objects of a certificate, the certificate first: linked writes name them in this order. */
export const LINKED: Collection[] = ['certificates', 'keys', 'secrets'];
const POLICY = 'policy';
/** The certificate's lifetime action and when it falls due: what the scheduler (events issue) acts on. */
export const LIFETIME = 'lifetime';

export interface CertificateMeta {
  tags?: Record<string, string>;
}

export interface SecretMeta {
  contentType?: string;
  tags?: Record<string, string>;
}

/**
 * What the certificate services share: the three objects' collections and sealed contents, the
 * managed keys, the operation documents, contacts and issuers, and the stored policy. The services
 * are split by what they bundle: CertificateIssuance (create, import, merge) carries the X.509 and
 * PKCS#12 library, CertificateService (everything else) does not (docs/adr/0014, "Bundle size").
 */
export abstract class CertificateBase {
  protected readonly clock: VaultClock;
  protected readonly store: ObjectStore;
  protected readonly certificates: VersionedObjects;
  protected readonly keyObjects: VersionedObjects;
  protected readonly secretObjects: VersionedObjects;
  protected readonly certificateContent: SealedContent<CertificateMeta>;
  protected readonly secretContent: SealedContent<SecretMeta>;
  protected readonly keyContent: SealedContent<Record<string, unknown>>;
  protected readonly keys: ManagedKeys;
  protected readonly operations: CertificateOperations;
  protected readonly settings: CertificateSettings;
  protected readonly sealer: ObjectSealer;
  protected readonly backups: BackupProtector;
  protected readonly documents: CertificateDocuments;

  constructor(parts: CertificateServiceParts) {
    this.clock = parts.clock ?? vaultClock();
    this.store = parts.objects;
    this.sealer = parts.sealer;
    this.backups = parts.backups;
    this.documents = parts.documents;
    this.certificates = new VersionedObjects(parts.objects, 'Certificate', 'certificates', this.clock);
    this.keyObjects = new VersionedObjects(parts.objects, 'Key', 'keys', this.clock);
    this.secretObjects = new VersionedObjects(parts.objects, 'Secret', 'secrets', this.clock);
    this.certificateContent = new SealedContent(parts.sealer, 'certificates');
    this.secretContent = new SealedContent(parts.sealer, 'secrets');
    this.keyContent = new SealedContent(parts.sealer, 'keys');
    this.keys = new ManagedKeys(parts.sealer, parts.hsm, parts.warn, parts.kmsKeyTags);
    this.operations = new CertificateOperations(parts.documents, parts.sealer);
    this.settings = new CertificateSettings(parts.documents, parts.sealer, this.clock);
  }

  protected async storedPolicy(at: VaultAddress, name: string): Promise<CertificatePolicy | undefined> {
    const stored = await this.certificates.getAttachment(at, name, POLICY);
    if (!stored || typeof stored.sealed !== 'string') return undefined;
    return this.sealer.openJson<CertificatePolicy>(at.vault, policyPlace(name), 'meta', Buffer.from(stored.sealed, 'base64'));
  }

  protected async putPolicy(at: VaultAddress, name: string, policy: CertificatePolicy): Promise<void> {
    const sealed = await this.sealer.sealJson(at.vault, policyPlace(name), 'meta', policy);
    await this.certificates.putAttachment(at, name, POLICY, { sealed: Buffer.from(sealed).toString('base64') });
  }

  /** Self and Unknown are Coffer's issuers; a vault issuer of a CA provider is stored but cannot issue (README). */
  protected async assertIssuerUsable(at: VaultAddress, issuer: string): Promise<void> {
    if (issuer === SELF_ISSUER || issuer === UNKNOWN_ISSUER) return;
    const provider = await this.settings.providerOf(at, issuer);
    if (provider === undefined) throw new BadParameter(`Issuer '${printable(issuer)}' not found: create it first, or use 'Self' or 'Unknown'.`);
    throw new BadParameter(
      `Issuer provider '${printable(provider)}' is not supported: Coffer cannot enroll with a public CA. Use 'Self', or 'Unknown' and merge the certificate your CA signs.`,
    );
  }
}

function policyPlace(name: string) {
  return { collection: 'certificates' as const, name, version: POLICY };
}

export function pendingNotFound(name: string): NotFound {
  return new NotFound('PendingCertificateNotFound', `Pending certificate not found: ${printable(name)}`);
}

export function raise(error: Error): never {
  throw error;
}
