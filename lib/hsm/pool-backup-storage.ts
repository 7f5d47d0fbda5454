/**
 * Where a managed HSM pool's full backups go (docs/adr/0025-pool-full-backup.md): one folder per
 * backup under the caller's storage URI, its objects put, got and listed by name. Azure writes to a
 * blob container; Coffer writes to a folder on the local stack (lib/hsm/folder-backup-storage.ts)
 * and to the pools' backup bucket in AWS (lib/aws/s3-pool-backup-storage.ts).
 */
import { BadParameter } from '../core/errors.ts';

export interface PoolBackupStorage {
  /** Writes one object of the folder, replacing one of the same name. */
  put(name: string, body: Uint8Array): Promise<void>;
  /** One object of the folder; undefined when the folder holds none of that name. */
  get(name: string): Promise<Buffer | undefined>;
  /** The names of the folder's objects. */
  list(): Promise<string[]>;
}

/** A backup's place: the storage URI the caller named (a container) and the backup's folder in it. */
export interface BackupLocation {
  container: URL;
  folder: string;
}

/** Opens a backup's folder in the storage the deployment writes to; BadParameter for a URI it does not serve. */
export type PoolBackupStorageFor = (location: BackupLocation) => PoolBackupStorage;

/** Object and folder names: letters, digits, `-`, `_` and `.` (never `..` alone), so no name climbs out of its folder. */
const SAFE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,200}$/;

export function assertSafeName(name: string, what: string): void {
  if (!SAFE_NAME.test(name)) throw new BadParameter(`The ${what} '${name.slice(0, 80)}' is not valid: use letters, digits, '-', '_' and '.'.`);
}

/**
 * The caller's storageResourceUri as a container URL: an absolute https URL without credentials,
 * query or fragment (a SAS token goes in `token`, which Coffer accepts and does not use), whose path
 * segments are each a safe name.
 */
export function parseStorageUri(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new BadParameter('storageResourceUri is not a valid URI.');
  }
  if (url.protocol !== 'https:') throw new BadParameter('storageResourceUri must be an https URI.');
  if (url.username || url.password || url.search || url.hash) {
    throw new BadParameter('storageResourceUri must not carry credentials, a query or a fragment: pass a SAS token in token.');
  }
  const segments = containerSegments(url);
  if (segments.length === 0) throw new BadParameter('storageResourceUri must name a container: https://<account>/<container>.');
  for (const segment of segments) assertSafeName(decodeURIComponent(segment), 'storage path segment');
  return url;
}

/** The container URL's path segments (no empty ones). */
export function containerSegments(url: URL): string[] {
  return url.pathname.split('/').filter((segment) => segment !== '');
}

/** The URL Azure answers as azureStorageBlobContainerUri and the SDKs call folder_url: the container, then the folder. */
export function folderUrl(location: BackupLocation): string {
  return `${location.container.href.replace(/\/+$/, '')}/${location.folder}`;
}
