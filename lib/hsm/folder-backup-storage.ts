/**
 * The local stack's backup storage (docs/adr/0025-pool-full-backup.md): a backup folder is a
 * directory `<root>/<host>/<container path>/<folder>/` under the stack's data directory, its files
 * readable by their owner only. It never makes a network call: the storage URI only names the place.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { assertSafeName, type BackupLocation, containerSegments, type PoolBackupStorage } from './pool-backup-storage.ts';

export function folderBackupStorage(root: string, location: BackupLocation): PoolBackupStorage {
  assertSafeName(location.container.hostname, 'storage host');
  assertSafeName(location.folder, 'backup folder');
  const segments = containerSegments(location.container).map((segment) => decodeURIComponent(segment));
  for (const segment of segments) assertSafeName(segment, 'storage path segment');
  const base = resolve(root);
  const directory = resolve(base, location.container.hostname, ...segments, location.folder);
  // Belt and braces beside the name rule: nothing outside the root, whatever the URI said.
  const inside = relative(base, directory);
  if (inside.startsWith('..') || inside.startsWith(sep)) throw new Error('A backup folder resolved outside the backup directory.');
  const file = (name: string) => {
    assertSafeName(name, 'backup object name');
    return join(directory, name);
  };
  return {
    async put(name, body) {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await writeFile(file(name), body, { mode: 0o600 });
    },
    async get(name) {
      return readFile(file(name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
    },
    async list() {
      return readdir(directory).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
    },
  };
}
