import * as z from 'zod/mini';

/**
 * Where the pools' full backups go (docs/adr/0025-pool-full-backup.md), read beside the pools' PKCS#11
 * settings: only the pools' functions and the local gateway carry it. `COFFER_POOL_BACKUP_DIRECTORY`:
 * on the local stack, a directory under its data directory (dev/stack.ts sets it), each storage URI
 * a folder in it. `COFFER_POOL_BACKUP_BUCKET` and `COFFER_POOL_BACKUP_PREFIX`: in AWS, the pools' backup bucket.
 */
const poolBackupConfigSchema = z.object({
  backupDirectory: z.optional(z.string().check(z.minLength(1))),
  /** In AWS, the pools' backup bucket and the deployment's prefix in it (infra/pool-stack.ts sets both with `--cloudhsm`). */
  backupBucket: z.optional(z.string().check(z.minLength(1))),
  backupPrefix: z.optional(z.string()),
});

export function poolBackupConfig(env: NodeJS.ProcessEnv = process.env): z.infer<typeof poolBackupConfigSchema> {
  const parsed = poolBackupConfigSchema.safeParse({
    backupDirectory: env.COFFER_POOL_BACKUP_DIRECTORY || undefined,
    backupBucket: env.COFFER_POOL_BACKUP_BUCKET || undefined,
    backupPrefix: env.COFFER_POOL_BACKUP_PREFIX ?? '',
  });
  if (!parsed.success) throw new Error(`invalid Coffer configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
