import { nowSeconds } from '../core/clock.ts';
import { BadParameter, Conflict, NotFound } from '../core/errors.ts';
import { printable } from '../core/names.ts';
import type { HsmKeys } from '../keys/hsm.ts';
import type { Warn } from '../keys/hsm-changes.ts';
import { type ManagedKeyMaterial, ManagedKeys } from '../keys/managed-keys.ts';
import type { BackupProtector, ObjectBackup } from '../objects/backup.ts';
import { VersionedObjects } from '../objects/collection.ts';
import { deletedObjectNotFound, objectNotFound, translateStoreError } from '../objects/errors.ts';
import { deletedDatesOf, latestOf, recordPage } from '../objects/records.ts';
import { newVersionId, parseVersion } from '../objects/rules.ts';
import { type ObjectSealer, type OpenedVersion, SealedContent } from '../objects/sealing.ts';
import type { Collection, DeletedHead, ObjectAttributes, ObjectStore, Page, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { CertificateDocuments } from './documents.ts';
import { CertificateOperations, type StoredOperation } from './pending.ts';
import { buildPem, readPem } from './pem.ts';
import { buildPkcs12, Pkcs12Malformed, Pkcs12Unsupported, Pkcs12WrongPassword, readPkcs12 } from './pkcs12.ts';
import { derivedPolicy, keyChoice, lifetimeActionDue, PEM, PKCS12, resolvePolicy, SELF_ISSUER, UNKNOWN_ISSUER } from './policy.ts';
import type {
  CertificateContentType,
  CertificateItemRecord,
  CertificateOperationRecord,
  CertificatePolicy,
  CertificateRecord,
  ContactsRecord,
  DeletedCertificateItemRecord,
  DeletedCertificateRecord,
  IssuerRecord,
} from './records.ts';
import type {
  CertificatePolicyInput,
  ContactsInput,
  CreateCertificateInput,
  ImportCertificateInput,
  MergeCertificateInput,
  SetIssuerInput,
  UpdateCertificateInput,
  UpdateCertificateOperationInput,
  UpdateIssuerInput,
} from './schemas.ts';
import { CertificateSettings } from './settings.ts';
import {
  type CertificateSigner,
  buildCsr,
  describeCertificate,
  issueSelfSigned,
  keyMatchesCertificate,
  orderChain,
  spkiMatchesCertificate,
  type X509Request,
} from './x509.ts';

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
  clock?: () => number;
}

/** The three objects of a certificate, the certificate first: linked writes name them in this order. */
const LINKED: Collection[] = ['certificates', 'keys', 'secrets'];
const POLICY = 'policy';
/** The certificate's lifetime action and when it falls due: what the scheduler (events issue) acts on. */
const LIFETIME = 'lifetime';

interface CertificateMeta {
  tags?: Record<string, string>;
}

interface SecretMeta {
  contentType?: string;
  tags?: Record<string, string>;
}

interface CertificateBackup extends ObjectBackup<OpenedBackupVersion> {
  collection: 'certificates';
  /** HSM-backed keys restore only into the vault they came from (docs/adr/0005). */
  vault: string;
  keys: OpenedBackupVersion[];
  secrets: OpenedBackupVersion[];
  policy?: CertificatePolicy;
}

interface OpenedBackupVersion {
  version: string;
  attributes: ObjectAttributes;
  plain: StoredVersion['plain'];
  meta: Record<string, unknown>;
  /** base64 */
  secret?: string;
}

const PENDING_DETAILS =
  'Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.';

/**
 * The certificates domain (reference §1.3): a certificate is three objects of one name, the
 * certificate, its managed key and its managed secret (the PKCS#12 or PEM with the chain, and the
 * private key when exportable), written, deleted, recovered, purged, backed up and restored together
 * (the object store's linked writes). A self-signed certificate is issued within its create; one of
 * issuer Unknown waits, with its CSR, for MergeCertificate. Answers records; wire.ts prints them.
 */
export class CertificateService {
  private readonly clock: () => number;
  private readonly store: ObjectStore;
  private readonly certificates: VersionedObjects;
  private readonly keyObjects: VersionedObjects;
  private readonly secretObjects: VersionedObjects;
  private readonly certificateContent: SealedContent<CertificateMeta>;
  private readonly secretContent: SealedContent<SecretMeta>;
  private readonly keyContent: SealedContent<Record<string, unknown>>;
  private readonly keys: ManagedKeys;
  private readonly operations: CertificateOperations;
  private readonly settings: CertificateSettings;
  private readonly sealer: ObjectSealer;
  private readonly backups: BackupProtector;
  private readonly documents: CertificateDocuments;

  constructor(parts: CertificateServiceParts) {
    this.clock = parts.clock ?? nowSeconds;
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

  async create(at: VaultAddress, name: string, input: CreateCertificateInput): Promise<CertificateOperationRecord> {
    this.certificates.assertName(name);
    const now = this.clock();
    const stored = await this.storedPolicy(at, name);
    const policy = resolvePolicy(input.policy, at.vault, now, input.policy ? undefined : stored);
    await this.assertIssuerUsable(at, policy.issuer.name);
    await this.assertNamesWritable(at, name);
    const pending = await this.operations.get(at, name);
    if (pending?.record.status === 'inProgress') {
      throw new Conflict(`Certificate ${printable(name)} has a pending operation: merge, cancel or delete it before creating another version.`);
    }
    const version = newVersionId();
    const { material, fresh } = await this.keyFor(at, name, version, policy);
    const request = x509Request(policy);
    const signer = this.signerOf(material);
    const operation: CertificateOperationRecord = {
      name,
      issuer: policy.issuer,
      cancellationRequested: false,
      status: 'inProgress',
      requestId: newVersionId(),
      ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}),
    };
    try {
      if (policy.issuer.name === SELF_ISSUER) {
        const der = await issueSelfSigned(request, material.spki, signer, new Date(now * 1000));
        await this.writeVersion(at, name, version, material, [der], policy, input);
        const done: CertificateOperationRecord = { ...operation, status: 'completed', targetVersion: version };
        await this.operations.put(at, name, { record: done, parts: { version } });
        return done;
      }
      const csr = await buildCsr(request, material.spki, signer);
      await this.putPolicy(at, name, policy);
      const inProgress: CertificateOperationRecord = { ...operation, csr, statusDetails: PENDING_DETAILS };
      await this.operations.put(at, name, {
        record: inProgress,
        parts: {
          version,
          key: await this.keys.sealPending(at, name, version, material),
          freshKey: fresh,
          request: await this.operations.sealRequest(at, name, version, {
            attributes: input.attributes ?? null,
            tags: input.tags ?? null,
            preserveCertOrder: input.preserveCertOrder ?? null,
          }),
        },
      });
      return inProgress;
    } catch (error) {
      if (fresh) await this.keys.discard(material);
      throw error;
    } finally {
      this.keys.wipe(material);
    }
  }

  async import(at: VaultAddress, name: string, input: ImportCertificateInput): Promise<CertificateRecord> {
    this.certificates.assertName(name);
    const now = this.clock();
    const contentType = importedContentType(input);
    const contents = contentType === PEM ? readPemValue(input.value) : await readPfxValue(input.value, input.pwd ?? undefined);
    if (!contents.privateKeyPkcs8) throw new BadParameter('The certificate to import has no private key: give a PFX or PEM that contains it.');
    if (contents.chain.length === 0) throw new BadParameter('The value to import contains no certificate.');
    const leaf = contents.chain[0]!;
    if (!keyMatchesCertificate(leaf, contents.privateKeyPkcs8)) {
      throw new BadParameter('The private key does not match the public key of the certificate being imported.');
    }
    const facts = describeCertificate(leaf);
    const hsm = (input.policy?.key_props?.kty ?? '').endsWith('-HSM');
    const policy = derivedPolicy(facts, input.policy, contentType, hsm, at.vault, now);
    await this.assertNamesWritable(at, name);
    const version = newVersionId();
    const material = await this.keys.import(at, name, version, contents.privateKeyPkcs8, hsm);
    Buffer.from(contents.privateKeyPkcs8.buffer, contents.privateKeyPkcs8.byteOffset, contents.privateKeyPkcs8.byteLength).fill(0);
    try {
      return await this.writeVersion(at, name, version, material, contents.chain, policy, input);
    } catch (error) {
      await this.keys.discard(material);
      throw error;
    } finally {
      this.keys.wipe(material);
    }
  }

  async merge(at: VaultAddress, name: string, input: MergeCertificateInput): Promise<CertificateRecord> {
    this.certificates.assertName(name);
    const pending = await this.operations.get(at, name);
    if (pending?.record.status !== 'inProgress' || !pending.parts.key) throw pendingNotFound(name);
    const chain = orderChain(input.x5c.map((entry, index) => decodeCertificate(entry, index)));
    const material = await this.keys.openPending(at, name, pending.parts.version, pending.parts.key);
    try {
      if (!spkiMatchesCertificate(chain[0]!, material.spki)) {
        throw new BadParameter("Public key from x509 certificate and key of this instance doesn't match.");
      }
      const policy = (await this.storedPolicy(at, name)) ?? raise(pendingNotFound(name));
      const request = await this.operations.openRequest(at, name, pending.parts);
      const record = await this.writeVersion(at, name, pending.parts.version, material, chain, policy, {
        attributes: input.attributes ?? request.attributes,
        tags: input.tags ?? request.tags,
        preserveCertOrder: request.preserveCertOrder,
      });
      await this.operations.put(at, name, {
        record: { ...pending.record, status: 'completed', targetVersion: pending.parts.version, statusDetails: undefined },
        parts: { version: pending.parts.version },
      });
      return record;
    } finally {
      this.keys.wipe(material);
    }
  }

  /** The named version, or the latest when the version is empty or absent, with the certificate's policy. */
  async get(at: VaultAddress, name: string, version: string | undefined): Promise<CertificateRecord> {
    try {
      const stored = await this.certificates.version(at, name, version);
      return this.record(at, stored, await this.storedPolicy(at, name));
    } catch (error) {
      // Azure answers a certificate whose first version is pending, without its cer: the official
      // client's getCertificateOperation reads it before the operation.
      if ((error as { status?: number }).status !== 404 || parseVersion('certificate', version) !== undefined) throw error;
      return (await this.pendingRecord(at, name)) ?? raise(error as Error);
    }
  }

  /** The certificate of a creation in progress that has no version yet: disabled, no cer, its policy. */
  private async pendingRecord(at: VaultAddress, name: string): Promise<CertificateRecord | undefined> {
    const pending = await this.operations.get(at, name);
    if (pending?.record.status !== 'inProgress' || (await this.certificates.findHead(at, name))) return undefined;
    const policy = await this.storedPolicy(at, name);
    const request = await this.operations.openRequest(at, name, pending.parts);
    const now = this.clock();
    return {
      name,
      version: pending.parts.version,
      attributes: { enabled: false, created: now, updated: now },
      ...(request.tags ? { tags: request.tags } : {}),
      contentType: policy?.secret_props.contentType ?? PKCS12,
      ...(policy ? { policy } : {}),
    };
  }

  /** Each certificate as its latest version; with `includePending`, certificates whose first version is still pending too. */
  async list(at: VaultAddress, limit: number, cursor: string | undefined, includePending: boolean): Promise<Page<CertificateItemRecord>> {
    // The next page's link carries no includePending: a cursor of this mode says it (store cursors have no ':').
    const pendingMode = includePending || cursor?.startsWith('h:') === true || cursor?.startsWith('p:') === true;
    if (!pendingMode) return recordPage(await this.certificates.listHeads(at, limit, cursor), (head) => this.itemRecord(at, latestOf(head)));
    // Live certificates first, then the pending-only ones: the cursor says which list it is in.
    if (!cursor?.startsWith('p:')) {
      const page = await this.certificates.listHeads(at, limit, cursor?.startsWith('h:') ? cursor.slice(2) : undefined);
      const items = await Promise.all(page.items.map((head) => this.itemRecord(at, latestOf(head))));
      return { items, cursor: page.cursor ? `h:${page.cursor}` : 'p:' };
    }
    return this.pendingOnly(at, limit, cursor.slice(2) || undefined);
  }

  async listVersions(at: VaultAddress, name: string, limit: number, cursor?: string): Promise<Page<CertificateItemRecord>> {
    return recordPage(await this.certificates.listVersions(at, name, limit, cursor), (head) => this.itemRecord(at, latestOf(head)));
  }

  async update(at: VaultAddress, name: string, versionParam: string | undefined, input: UpdateCertificateInput): Promise<CertificateRecord> {
    const head = await this.certificates.head(at, name);
    const version = parseVersion('certificate', versionParam) ?? head.latest;
    const now = this.clock();
    // A certificate's dates are its X.509 validity: an update changes whether it is enabled, and its tags.
    const enabled = input.attributes?.enabled ?? undefined;
    const patch = (current: StoredVersion): ObjectAttributes => ({ ...current.attributes, ...(enabled != null ? { enabled } : {}), updated: now });
    const updated = await this.store
      .updateLinkedVersions(at.vault.name, name, version, [
        {
          collection: 'certificates',
          update: async (current) => ({
            attributes: patch(current),
            meta:
              input.tags === undefined
                ? current.meta
                : await this.certificateContent.sealMeta(at.vault, current, input.tags ? { tags: input.tags } : {}),
            plain: current.plain,
          }),
        },
        { collection: 'keys', update: async (current) => ({ attributes: patch(current), meta: current.meta, plain: current.plain }) },
        { collection: 'secrets', update: async (current) => ({ attributes: patch(current), meta: current.meta, plain: current.plain }) },
      ])
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, name);
      });
    if (!updated) throw objectNotFound('Certificate', name, versionParam);
    if (input.policy) await this.updatePolicy(at, name, input.policy);
    return this.get(at, name, version);
  }

  async getPolicy(at: VaultAddress, name: string): Promise<CertificatePolicy> {
    this.certificates.assertName(name);
    return (await this.storedPolicy(at, name)) ?? raise(objectNotFound('Certificate', name));
  }

  async updatePolicy(at: VaultAddress, name: string, input: CertificatePolicyInput): Promise<CertificatePolicy> {
    const base = await this.getPolicy(at, name);
    const policy = resolvePolicy(input, at.vault, this.clock(), base);
    await this.assertIssuerUsable(at, policy.issuer.name);
    await this.putPolicy(at, name, policy);
    return policy;
  }

  async delete(at: VaultAddress, name: string): Promise<DeletedCertificateRecord> {
    await this.certificates.head(at, name);
    const now = this.clock();
    const arns = this.keys.arnsOf(await this.keyObjects.versionsOf(at, name));
    const deleted = await this.keys
      .changeThenStore(
        're-enable the KMS key of a certificate whose deletion failed',
        arns,
        'disable',
        () =>
          this.store.softDeleteLinked(at.vault.name, LINKED, name, {
            deletedDate: now,
            scheduledPurgeDate: now + at.vault.softDeleteRetentionDays * 86_400,
          }),
        async () => Boolean(await this.certificates.findHead(at, name)),
      )
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, name);
      });
    if (!deleted?.[0]) throw objectNotFound('Certificate', name);
    await this.dropPendingOperation(at, name);
    return this.deletedRecord(at, deleted[0]);
  }

  async getDeleted(at: VaultAddress, name: string): Promise<DeletedCertificateRecord> {
    return this.deletedRecord(at, await this.certificates.deleted(at, name));
  }

  async listDeleted(at: VaultAddress, limit: number, cursor?: string): Promise<Page<DeletedCertificateItemRecord>> {
    return recordPage(await this.certificates.listDeleted(at, limit, cursor), async (deleted) => ({
      ...(await this.itemRecord(at, latestOf(deleted))),
      ...deletedDatesOf(deleted),
    }));
  }

  async recover(at: VaultAddress, name: string): Promise<CertificateRecord> {
    await this.certificates.deleted(at, name);
    const arns = this.keys.arnsOf(await this.keyObjects.versionsOf(at, name));
    const recovered = await this.keys
      .changeThenStore(
        'disable again the KMS key of a certificate whose recovery failed',
        arns,
        'enable',
        () => this.store.recoverLinked(at.vault.name, LINKED, name),
        async () => !(await this.certificates.findHead(at, name)),
      )
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, name);
      });
    if (!recovered) throw deletedObjectNotFound('Certificate', name);
    return this.get(at, name, undefined);
  }

  async purge(at: VaultAddress, name: string): Promise<void> {
    await this.certificates.assertPurgeable(at, name);
    const arns = this.keys.arnsOf(await this.keyObjects.versionsOf(at, name));
    // KMS deletes material only after its shortest waiting period (7 days); the keys are already disabled.
    const purged = await this.keys.changeThenStore(
      'cancel the deletion of the KMS key of a certificate whose purge failed',
      arns,
      'scheduleDeletion',
      () => this.store.purgeLinked(at.vault.name, LINKED, name),
      async () => Boolean(await this.certificates.findDeleted(at, name)),
    );
    if (!purged) throw deletedObjectNotFound('Certificate', name);
    await this.operations.delete(at, name);
  }

  async backup(at: VaultAddress, name: string): Promise<string> {
    const { head, versions } = await this.certificates.allVersions(at, name);
    const [keys, secrets] = await Promise.all([this.keyObjects.versionsOf(at, name), this.secretObjects.versionsOf(at, name)]);
    const content: CertificateBackup = {
      collection: 'certificates',
      vault: at.vault.name,
      name: head.name,
      latest: head.latest,
      versions: backupVersions(await this.certificateContent.openVersions(at.vault, versions)),
      keys: backupVersions(await this.keyContent.openVersions(at.vault, keys)),
      secrets: backupVersions(await this.secretContent.openVersions(at.vault, secrets)),
      policy: await this.storedPolicy(at, name),
    };
    return this.backups.seal(at.vault.tenantId, 'certificates', content);
  }

  async restore(at: VaultAddress, blob: string): Promise<CertificateRecord> {
    const content = await this.backups.openObject<CertificateBackup>(at.vault.tenantId, 'certificates', blob);
    if (!Array.isArray(content.keys) || !Array.isArray(content.secrets) || !content.versions.some((v) => v.version === content.latest)) {
      throw new BadParameter('Backup blob contains invalid or corrupt version.');
    }
    const arns = this.keys.arnsOf(content.keys);
    if (arns.length > 0 && content.vault !== at.vault.name) {
      throw new BadParameter(
        "A backup of a certificate with an HSM-backed key can be restored only into the vault it was taken from: its key material never leaves that vault's HSM.",
      );
    }
    for (const objects of [this.certificates, this.keyObjects, this.secretObjects]) await objects.assertNameFree(at, content.name);
    const [certificates, keys, secrets] = await Promise.all([
      this.certificateContent.sealVersions(at.vault, content.name, openedVersions<CertificateMeta>(content.versions)),
      this.keyContent.sealVersions(at.vault, content.name, openedVersions(content.keys)),
      this.secretContent.sealVersions(at.vault, content.name, openedVersions<SecretMeta>(content.secrets)),
    ]);
    await this.keys
      .changeThenStore(
        'schedule again the deletion of the KMS key of a certificate whose restore failed',
        arns,
        'restore',
        () =>
          this.store.restoreLinked(at.vault.name, [
            { collection: 'certificates', versions: certificates, latest: content.latest },
            { collection: 'keys', versions: keys, latest: content.latest },
            { collection: 'secrets', versions: secrets, latest: content.latest },
          ]),
        async () => !(await this.certificates.findHead(at, content.name)),
      )
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, content.name);
      });
    if (content.policy) await this.putPolicy(at, content.name, content.policy);
    return this.get(at, content.name, undefined);
  }

  async getOperation(at: VaultAddress, name: string): Promise<CertificateOperationRecord> {
    this.certificates.assertName(name);
    return (await this.operations.get(at, name))?.record ?? raise(pendingNotFound(name));
  }

  /** `cancellation_requested: true` cancels a pending operation: its key goes, the record stays, `cancelled`. */
  async updateOperation(at: VaultAddress, name: string, input: UpdateCertificateOperationInput): Promise<CertificateOperationRecord> {
    this.certificates.assertName(name);
    const pending = (await this.operations.get(at, name)) ?? raise(pendingNotFound(name));
    if (!input.cancellation_requested || pending.record.status !== 'inProgress') return pending.record;
    await this.discardPendingKey(at, name, pending);
    const cancelled: CertificateOperationRecord = {
      ...pending.record,
      cancellationRequested: true,
      status: 'cancelled',
      statusDetails: 'The certificate operation was cancelled by the user.',
    };
    await this.operations.put(at, name, { record: cancelled, parts: { version: pending.parts.version } });
    return cancelled;
  }

  async deleteOperation(at: VaultAddress, name: string): Promise<CertificateOperationRecord> {
    this.certificates.assertName(name);
    const pending = (await this.operations.get(at, name)) ?? raise(pendingNotFound(name));
    if (pending.record.status === 'inProgress') await this.discardPendingKey(at, name, pending);
    await this.operations.delete(at, name);
    return pending.record;
  }

  getContacts(at: VaultAddress): Promise<ContactsRecord> {
    return this.settings.getContacts(at);
  }

  setContacts(at: VaultAddress, input: ContactsInput): Promise<ContactsRecord> {
    return this.settings.setContacts(at, input);
  }

  deleteContacts(at: VaultAddress): Promise<ContactsRecord> {
    return this.settings.deleteContacts(at);
  }

  getIssuer(at: VaultAddress, name: string): Promise<IssuerRecord> {
    return this.settings.getIssuer(at, name);
  }

  setIssuer(at: VaultAddress, name: string, input: SetIssuerInput): Promise<IssuerRecord> {
    return this.settings.setIssuer(at, name, input);
  }

  updateIssuer(at: VaultAddress, name: string, input: UpdateIssuerInput): Promise<IssuerRecord> {
    return this.settings.updateIssuer(at, name, input);
  }

  deleteIssuer(at: VaultAddress, name: string): Promise<IssuerRecord> {
    return this.settings.deleteIssuer(at, name);
  }

  listIssuers(at: VaultAddress, limit: number, cursor?: string): Promise<Page<IssuerRecord>> {
    return this.settings.listIssuers(at, limit, cursor);
  }

  /** The due time of the certificate's lifetime action, as stored for the scheduler. */
  async lifetimeActionOf(at: VaultAddress, name: string): Promise<{ version: string; actionType: string; due: number } | undefined> {
    const stored = await this.certificates.getAttachment(at, name, LIFETIME);
    return stored as { version: string; actionType: string; due: number } | undefined;
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Writes a version of the three objects in one transaction: the certificate (its DER sealed), the
   * managed key, and the managed secret (PKCS#12 base64 or PEM, with the private key when the policy
   * makes it exportable); then the policy and the lifetime action's due time.
   */
  private async writeVersion(
    at: VaultAddress,
    name: string,
    version: string,
    material: ManagedKeyMaterial,
    chain: Uint8Array[],
    policy: CertificatePolicy,
    input: { attributes?: { enabled?: boolean | null } | null; tags?: Record<string, string> | null; preserveCertOrder?: boolean | null },
  ): Promise<CertificateRecord> {
    const leaf = chain[0]!;
    const facts = describeCertificate(leaf);
    const now = this.clock();
    const attributes: ObjectAttributes = {
      enabled: input.attributes?.enabled ?? policy.attributes.enabled,
      nbf: facts.notBefore,
      exp: facts.notAfter,
      created: now,
      updated: now,
    };
    const contentType = policy.secret_props.contentType;
    const exportable = policy.key_props.exportable && material.privatePkcs8 !== undefined;
    const contents = { chain, ...(exportable ? { privateKeyPkcs8: material.privatePkcs8 } : {}) };
    const secretValue = contentType === PEM ? buildPem(contents) : Buffer.from(await buildPkcs12(contents)).toString('base64');
    const place = { name, version };
    const tags = input.tags ?? undefined;
    const certificate: StoredVersion = {
      name,
      version,
      attributes,
      meta: await this.certificateContent.sealMeta(at.vault, place, tags ? { tags } : {}),
      secret: await this.certificateContent.sealSecret(at.vault, place, leaf),
      plain: { x5t: facts.x5t, contentType, ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}) },
    };
    const secret: StoredVersion = {
      name,
      version,
      attributes,
      meta: await this.secretContent.sealMeta(at.vault, place, { contentType }),
      secret: await this.secretContent.sealSecret(at.vault, place, Buffer.from(secretValue, 'utf8')),
      plain: { managed: true },
    };
    const key = await this.keys.storedVersion(at, name, version, material, attributes);
    const heads = await this.store
      .addLinkedVersions(at.vault.name, [
        { collection: 'certificates', version: certificate },
        { collection: 'keys', version: key },
        { collection: 'secrets', version: secret },
      ])
      .catch((error: unknown) => {
        throw translateStoreError('Certificate', error, name);
      });
    await this.putPolicy(at, name, policy);
    const action = policy.lifetime_actions[0];
    if (action) {
      await this.certificates.putAttachment(at, name, LIFETIME, {
        version,
        actionType: action.action.action_type,
        due: lifetimeActionDue(action, facts.notBefore, facts.notAfter),
      });
    }
    return {
      name: heads[0]?.name ?? name,
      version,
      attributes,
      ...(tags ? { tags } : {}),
      cer: leaf,
      x5t: facts.x5t,
      contentType,
      policy,
      ...(input.preserveCertOrder != null ? { preserveCertOrder: input.preserveCertOrder } : {}),
    };
  }

  /** The key of a new version: the latest version's again when the policy reuses keys, else a new one. */
  private async keyFor(
    at: VaultAddress,
    name: string,
    version: string,
    policy: CertificatePolicy,
  ): Promise<{ material: ManagedKeyMaterial; fresh: boolean }> {
    const choice = keyChoice(policy);
    if (policy.key_props.reuse_key) {
      const head = await this.keyObjects.findHead(at, name);
      if (head) {
        const latest = await this.store.getVersion(at.vault.name, 'keys', name, head.latest);
        const kty = String(latest?.plain.kty ?? '');
        if (latest && kty === policy.key_props.kty) return { material: await this.keys.open(at, latest), fresh: false };
      }
    }
    return { material: await this.keys.generate(at, name, version, choice), fresh: true };
  }

  private signerOf(material: ManagedKeyMaterial): CertificateSigner {
    const crv = material.plain.crv;
    return {
      kind: material.plain.kty.startsWith('RSA') ? 'RSA' : 'EC',
      ...(crv === 'P-256' || crv === 'P-384' || crv === 'P-521' ? { curve: crv } : {}),
      sign: (data) => this.keys.sign(material, data),
    };
  }

  /**
   * The names must be free for a certificate: no deleted certificate, key or secret holds them, and a
   * live key or secret of that name is the certificate's own (managed), not a caller's.
   */
  private async assertNamesWritable(at: VaultAddress, name: string): Promise<void> {
    await this.certificates.assertNotDeleted(at, name);
    for (const [objects, label] of [
      [this.keyObjects, 'key'],
      [this.secretObjects, 'secret'],
    ] as const) {
      await objects.assertNotDeleted(at, name);
      const head = await objects.findHead(at, name);
      if (head && head.plain.managed !== true) {
        throw new Conflict(
          `Certificate ${printable(name)} cannot be written: a ${label} of that name exists in this vault and is not the certificate's own.`,
        );
      }
    }
  }

  /** Self and Unknown are Coffer's issuers; a vault issuer of a CA provider is stored but cannot issue (README). */
  private async assertIssuerUsable(at: VaultAddress, issuer: string): Promise<void> {
    if (issuer === SELF_ISSUER || issuer === UNKNOWN_ISSUER) return;
    const provider = await this.settings.providerOf(at, issuer);
    if (provider === undefined) throw new BadParameter(`Issuer '${printable(issuer)}' not found: create it first, or use 'Self' or 'Unknown'.`);
    throw new BadParameter(
      `Issuer provider '${printable(provider)}' is not supported: Coffer cannot enroll with a public CA. Use 'Self', or 'Unknown' and merge the certificate your CA signs.`,
    );
  }

  private async storedPolicy(at: VaultAddress, name: string): Promise<CertificatePolicy | undefined> {
    const stored = await this.certificates.getAttachment(at, name, POLICY);
    if (!stored || typeof stored.sealed !== 'string') return undefined;
    return this.sealer.openJson<CertificatePolicy>(at.vault, policyPlace(name), 'meta', Buffer.from(stored.sealed, 'base64'));
  }

  private async putPolicy(at: VaultAddress, name: string, policy: CertificatePolicy): Promise<void> {
    const sealed = await this.sealer.sealJson(at.vault, policyPlace(name), 'meta', policy);
    await this.certificates.putAttachment(at, name, POLICY, { sealed: Buffer.from(sealed).toString('base64') });
  }

  private async discardPendingKey(at: VaultAddress, name: string, pending: StoredOperation): Promise<void> {
    if (!pending.parts.key || !pending.parts.freshKey) return;
    await this.keys.discard(await this.keys.openPending(at, name, pending.parts.version, pending.parts.key));
  }

  private async dropPendingOperation(at: VaultAddress, name: string): Promise<void> {
    const pending = await this.operations.get(at, name);
    if (!pending) return;
    if (pending.record.status === 'inProgress') await this.discardPendingKey(at, name, pending);
    await this.operations.delete(at, name);
  }

  /** Certificates with a creation in progress and no version yet, in name order. */
  private async pendingOnly(at: VaultAddress, limit: number, cursor: string | undefined): Promise<Page<CertificateItemRecord>> {
    const page = await this.documents.list(at.vault.name, 'operations', limit, cursor);
    const items: CertificateItemRecord[] = [];
    const now = this.clock();
    for (const item of page.items) {
      const { record, parts } = item.document as { record?: CertificateOperationRecord; parts?: { version?: string } };
      if (record?.status !== 'inProgress' || (await this.certificates.findHead(at, item.name))) continue;
      items.push({ name: item.name, version: parts?.version ?? '', attributes: { enabled: false, created: now, updated: now } });
    }
    return { items, ...(page.cursor ? { cursor: `p:${page.cursor}` } : {}) };
  }

  private async record(at: VaultAddress, version: StoredVersion, policy: CertificatePolicy | undefined): Promise<CertificateRecord> {
    const meta = await this.certificateContent.openMeta(at.vault, version);
    const full = version.secret ? version : await this.store.getVersion(at.vault.name, 'certificates', version.name, version.version);
    if (!full?.secret) throw objectNotFound('Certificate', version.name, version.version);
    const cer = await this.certificateContent.openSecret(at.vault, version, full.secret);
    return {
      name: version.name,
      version: version.version,
      attributes: version.attributes,
      ...(meta.tags ? { tags: meta.tags } : {}),
      cer,
      x5t: String(version.plain.x5t),
      contentType: (version.plain.contentType as CertificateContentType | undefined) ?? PKCS12,
      ...(policy ? { policy } : {}),
      ...(typeof version.plain.preserveCertOrder === 'boolean' ? { preserveCertOrder: version.plain.preserveCertOrder } : {}),
    };
  }

  private async itemRecord(at: VaultAddress, version: StoredVersion): Promise<CertificateItemRecord> {
    const meta = await this.certificateContent.openMeta(at.vault, version);
    return {
      name: version.name,
      version: version.version,
      attributes: version.attributes,
      ...(meta.tags ? { tags: meta.tags } : {}),
      ...(typeof version.plain.x5t === 'string' ? { x5t: version.plain.x5t } : {}),
    };
  }

  private async deletedRecord(at: VaultAddress, deleted: DeletedHead): Promise<DeletedCertificateRecord> {
    const version = await this.store.getVersion(at.vault.name, 'certificates', deleted.name, deleted.latest);
    if (!version) throw deletedObjectNotFound('Certificate', deleted.name);
    return { ...(await this.record(at, { ...version, name: deleted.name }, await this.storedPolicy(at, deleted.name))), ...deletedDatesOf(deleted) };
  }
}

function policyPlace(name: string) {
  return { collection: 'certificates' as const, name, version: POLICY };
}

function pendingNotFound(name: string): NotFound {
  return new NotFound('PendingCertificateNotFound', `Pending certificate not found: ${printable(name)}`);
}

function raise(error: Error): never {
  throw error;
}

function x509Request(policy: CertificatePolicy): X509Request {
  const props = policy.x509_props;
  return {
    subject: props.subject,
    ...(props.sans ? { sans: props.sans } : {}),
    ...(props.ekus ? { ekus: props.ekus } : {}),
    ...(props.key_usage ? { key_usage: props.key_usage } : {}),
    validity_months: props.validity_months,
  };
}

/** A PEM import is named by its policy's content type (the official client sends PEM text then), or is recognizably PEM text. */
function importedContentType(input: ImportCertificateInput): CertificateContentType {
  const given = input.policy?.secret_props?.contentType;
  if (given === PEM || (given == null && input.value.trimStart().startsWith('-----BEGIN'))) return PEM;
  if (given != null && given !== PKCS12) throw new BadParameter(`Invalid content type '${printable(given)}': expected ${PKCS12} or ${PEM}.`);
  return PKCS12;
}

function readPemValue(value: string) {
  try {
    return readPem(value);
  } catch (error) {
    throw new BadParameter(`The PEM value could not be read: ${error instanceof Error ? error.message : 'malformed'}.`);
  }
}

async function readPfxValue(value: string, password: string | undefined) {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) throw new BadParameter('The certificate value is not base64: give the PFX base64-encoded, or PEM text.');
  try {
    return await readPkcs12(Buffer.from(value, 'base64'), password);
  } catch (error) {
    if (error instanceof Pkcs12WrongPassword)
      throw new BadParameter(
        'The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format, and the password is correct.',
      );
    if (error instanceof Pkcs12Unsupported)
      throw new BadParameter('The PKCS#12 file uses an encryption Coffer cannot read: export it with AES-256 (OpenSSL 3 defaults).');
    if (error instanceof Pkcs12Malformed)
      throw new BadParameter(
        'The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.',
      );
    throw error;
  }
}

function decodeCertificate(entry: string, index: number): Uint8Array {
  const text = entry.trim();
  const body = text.startsWith('-----BEGIN') ? text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '') : text;
  if (!/^[A-Za-z0-9+/=]+$/.test(body)) throw new BadParameter(`x5c[${index}] is not a base64 DER certificate.`);
  const der = Buffer.from(body, 'base64');
  describeCertificate(der);
  return der;
}

function backupVersions<Meta>(versions: OpenedVersion<Meta>[]): OpenedBackupVersion[] {
  return versions.map(({ secret, meta, ...v }) => ({
    ...v,
    meta: meta as Record<string, unknown>,
    ...(secret ? { secret: secret.toString('base64') } : {}),
  }));
}

function openedVersions<Meta>(versions: OpenedBackupVersion[]): OpenedVersion<Meta>[] {
  return versions.map(({ secret, meta, ...v }) => ({ ...v, meta: meta as Meta, ...(secret ? { secret: Buffer.from(secret, 'base64') } : {}) }));
}
