import * as z from 'zod/mini';

/**
 * The backup and restore routes' bodies (backuprestore.json 7.6: SASTokenParameter, RestoreOperationParameters,
 * SelectiveKeyRestoreOperationParameters). `token` (a SAS) and `useManagedIdentity` are accepted and not
 * used: Coffer's storage is the deployment's own (docs/adr/0025-pool-full-backup.md).
 */
const sasTokenParameter = z.object({
  storageResourceUri: z.string().check(z.minLength(1), z.maxLength(2048)),
  token: z.optional(z.nullable(z.string().check(z.maxLength(8192)))),
  useManagedIdentity: z.optional(z.nullable(z.boolean())),
});

const folder = z.string().check(z.minLength(1), z.maxLength(256));

export const backupRequest = sasTokenParameter;

export const restoreRequest = z.object({ sasTokenParameters: sasTokenParameter, folderToRestore: folder });

export const selectiveKeyRestoreRequest = z.object({ sasTokenParameters: sasTokenParameter, folder });
