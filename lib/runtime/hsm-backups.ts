import { DynamoPoolBackupJobStore } from '../aws/dynamo-pool-backup-jobs.ts';
import { s3PoolBackupStorage } from '../aws/s3-pool-backup-storage.ts';
import { BadParameter } from '../core/errors.ts';
import { folderBackupStorage } from '../hsm/folder-backup-storage.ts';
import { PoolBackups, type PoolKeysAccess } from '../hsm/pool-backup.ts';
import type { PoolBackupStorageFor } from '../hsm/pool-backup-storage.ts';
import { poolKeysAddress } from '../hsm/pool-keys.ts';
import type { ManagedHsmPool } from '../hsm/pools.ts';
import type { KeyMeta } from '../keys/layout.ts';
import { SealedContent } from '../objects/sealing.ts';
import { hsmOperations } from './hsm.ts';
import { poolBackupConfig } from './pool-backup-config.ts';
import { tokenPoolHsm } from './pool-tokens.ts';

/**
 * The composition root of a pool's full backup, full restore and selective key restore, and their
 * jobs (docs/adr/0025-pool-full-backup.md): the backup storage (a folder or S3) and what a backup
 * reaches of the pool's keys, their HSM and their partition, without the keys domain's service.
 */
export interface HsmBackupsServices {
  backups: PoolBackups;
  /** What a backup or restore reaches of the pool's keys: its HSM and its keys' partition. */
  poolKeysAccess(pool: ManagedHsmPool, baseUrl: string): PoolKeysAccess;
}

/**
 * Where the pools' backups are written: a folder under the local stack's data directory, the pools'
 * backup bucket in AWS, or none
 * (a 400 that says so) where the deployment configures no backup storage.
 */
function backupStorage(region: string): PoolBackupStorageFor {
  const { backupDirectory, backupBucket, backupPrefix } = poolBackupConfig();
  if (backupDirectory) return (location) => folderBackupStorage(backupDirectory, location);
  if (backupBucket) return (location) => s3PoolBackupStorage({ bucket: backupBucket, region, prefix: backupPrefix ?? '' }, location);
  return () => {
    throw new BadParameter('This deployment has no storage for managed HSM backups configured.');
  };
}

/** `hsmBackupOperation('HsmFullBackup', schemas, run)`: a pool's backup or restore handler, or its job's status. */
export const hsmBackupOperation = hsmOperations<HsmBackupsServices>((shared, plane) => ({
  backups: new PoolBackups(
    shared.objects,
    new SealedContent<KeyMeta>(shared.sealer, 'keys'),
    new DynamoPoolBackupJobStore(shared.dynamo, shared.config.objectsTable),
    backupStorage(shared.config.region),
    plane.rbacStore,
  ),
  poolKeysAccess: (pool, baseUrl) => ({ hsm: tokenPoolHsm(pool), at: poolKeysAddress(pool, baseUrl, shared.config.backupKeyId) }),
}));
