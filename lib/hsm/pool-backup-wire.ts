import type { PoolBackupJob } from './pool-backup.ts';

/** FullBackupOperation and RestoreOperation as backuprestore.json shapes them; a restore has no container URI. */
export function backupJobBody(job: PoolBackupJob): Record<string, unknown> {
  return {
    status: job.status,
    statusDetails: job.statusDetails,
    error: job.error,
    startTime: job.startTime,
    endTime: job.endTime,
    jobId: job.jobId,
    ...(job.kind === 'backup' ? { azureStorageBlobContainerUri: job.azureStorageBlobContainerUri ?? null } : {}),
  };
}

/** The 202's headers: where to poll, and when (the job is already final, so at once). */
export function backupJobHeaders(baseUrl: string, job: PoolBackupJob): Record<string, string> {
  return { 'Azure-AsyncOperation': `${baseUrl}/${job.kind}/${job.jobId}/pending`, 'Retry-After': '0' };
}
