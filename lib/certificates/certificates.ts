import { CertificateBase, type CertificateMeta, LIFETIME, LINKED, pendingNotFound, raise, type SecretMeta } from './base.ts';
import { BadParameter } from '../core/errors.ts';
import type { ObjectBackup } from '../objects/backup.ts';
import { deletedObjectNotFound, objectNotFound, translateStoreError } from '../objects/errors.ts';
import { deletedDatesOf, latestOf, recordPage } from '../objects/records.ts';
import { parseVersion } from '../objects/rules.ts';
import type { OpenedVersion } from '../objects/sealing.ts';
import type { DeletedHead, ObjectAttributes, Page, StoredVersion } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { StoredOperation } from './pending.ts';
import { PKCS12, resolvePolicy } from './policy.ts';
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
  SetIssuerInput,
  UpdateCertificateInput,
  UpdateCertificateOperationInput,
  UpdateIssuerInput,
} from './schemas.ts';

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

/**
 * The certificates domain (reference §1.3): a certificate is three objects of one name, the
 * certificate, its managed key and its managed secret (the PKCS#12 or PEM with the chain, and the
 * private key when exportable), written, deleted, recovered, purged, backed up and restored together
 * (the object store's linked writes). A self-signed certificate is issued within its create; one of
 * issuer Unknown waits, with its CSR, for MergeCertificate. Answers records; wire.ts prints them.
 */
export class CertificateService extends CertificateBase {
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
    const now = this.clock(at.vault.name);
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
    const now = this.clock(at.vault.name);
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
    const policy = resolvePolicy(input, at.vault, this.clock(at.vault.name), base);
    await this.assertIssuerUsable(at, policy.issuer.name);
    await this.putPolicy(at, name, policy);
    return policy;
  }

  async delete(at: VaultAddress, name: string): Promise<DeletedCertificateRecord> {
    await this.certificates.head(at, name);
    const now = this.clock(at.vault.name);
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
    const now = this.clock(at.vault.name);
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
