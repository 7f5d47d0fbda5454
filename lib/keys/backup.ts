import { BadParameter } from '../core/errors.ts';
import type { BackupProtector, ObjectBackup } from '../objects/backup.ts';
import type { VersionedObjects } from '../objects/collection.ts';
import type { SealedContent } from '../objects/sealing.ts';
import type { ObjectAttributes } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { HsmChanges } from './hsm-changes.ts';
import { HsmKeyMissing, type HsmKeys } from './hsm.ts';
import { type KeyMeta, type KeyPlain, plainOf, storedPlain } from './layout.ts';
import { type KeyRecord, keyRecord } from './records.ts';
import type { KeyVersions } from './versions.ts';

interface BackupVersion {
  version: string;
  attributes: ObjectAttributes;
  plain: KeyPlain;
  /** Software keys: the PKCS#8 private key, base64. HSM keys have none: their material stays in KMS. */
  privateKey?: string;
  meta: KeyMeta;
}

interface KeyBackup extends ObjectBackup<BackupVersion> {
  collection: 'keys';
  /** The vault the backup was taken from: HSM versions can only return there (their KMS keys stay). */
  vault: string;
}

/** Backup and restore of keys; an HSM key's backup names its KMS keys and restores only into its vault. */
export class KeyBackups {
  constructor(
    private readonly objects: VersionedObjects,
    private readonly content: SealedContent<KeyMeta>,
    private readonly backups: BackupProtector,
    private readonly versions: KeyVersions,
    private readonly changes: HsmChanges,
    private readonly hsm: HsmKeys,
  ) {}

  /** The sealed backup blob of every version. */
  async backup(at: VaultAddress, name: string): Promise<string> {
    const { head, versions } = await this.objects.allVersions(at, name);
    const content: KeyBackup = {
      collection: 'keys',
      vault: at.vault.name,
      name: head.name,
      latest: head.latest,
      versions: (await this.content.openVersions(at.vault, versions)).map(({ secret, ...v }) => ({
        ...v,
        plain: plainOf(v),
        ...(secret ? { privateKey: secret.toString('base64') } : {}),
      })),
    };
    return this.backups.seal(at.vault.tenantId, 'keys', content);
  }

  async restore(at: VaultAddress, blob: string): Promise<KeyRecord> {
    const content = await this.backups.openObject<KeyBackup>(at.vault.tenantId, 'keys', blob);
    const versions = await this.content.sealVersions(
      at.vault,
      content.name,
      content.versions.map(({ privateKey, ...v }) => ({
        ...v,
        plain: storedPlain(v.plain),
        ...(privateKey ? { secret: Buffer.from(privateKey, 'base64') } : {}),
      })),
    );
    // HSM material cannot leave KMS, so an HSM backup names its KMS keys, which belong to the vault
    // the backup came from: restoring them elsewhere would give two vaults one key.
    const arns = content.versions.flatMap((v) => (v.plain.hsmArn ? [v.plain.hsmArn] : []));
    if (arns.length > 0 && content.vault !== at.vault.name) {
      throw new BadParameter(
        "A backup of an HSM-backed key can be restored only into the vault it was taken from: its key material never leaves that vault's HSM.",
      );
    }
    await this.objects.assertNameFree(at, content.name);
    // The KMS keys were scheduled for deletion by the purge: bring them back before the key reappears.
    const latest = await this.changes
      .changeHsmThenStore({
        what: 'schedule again the deletion of the KMS key of a key whose restore failed',
        arns,
        apply: async (arn) => {
          await this.hsm.cancelKeyDeletion(arn);
          await this.hsm.enableKey(arn);
        },
        write: () => this.objects.restore(at, versions, content.latest),
        toUndo: (changed) => this.versions.hsmArnsNotInUse(at, content.name, changed),
        undo: (arn) => this.hsm.scheduleKeyDeletion(arn),
      })
      .catch((error: unknown) => {
        if (error instanceof HsmKeyMissing) throw new BadParameter('The HSM key material this backup refers to no longer exists.');
        throw error;
      });
    const latestMeta = content.versions.find((v) => v.version === content.latest)!.meta;
    return keyRecord(latest, latestMeta);
  }
}
