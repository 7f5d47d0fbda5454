import { randomBytes } from 'node:crypto';

/** Private files of the local stack (keys, registrations, connection info): owner-only, never torn. */
import { appendFileSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Replaces `path` so that readers see either the old or the new content, never a torn
 * file: the registry is rewritten on every registration and a crash mid-write must not
 * lose existing principals.
 */
export async function writeFileAtomic(path: string, contents: string, mode = 0o600): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeNewFile(temporary, contents, mode);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Returns the content of `path`, creating it with `produce()` if it does not exist yet.
 * link() refuses to overwrite, so when two processes race on a fresh data directory both
 * end up using the same signing key / header secret instead of silently diverging.
 */
export async function readOrCreateFile(path: string, produce: () => Promise<string> | string, mode = 0o600): Promise<string> {
  const existing = await readFileIfExists(path);
  if (existing !== undefined) return existing;
  const contents = await produce();
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeNewFile(temporary, contents, mode);
  try {
    await link(temporary, path);
    return contents;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFile(path, 'utf8');
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

export async function writeNewFile(path: string, contents: string, mode: number): Promise<void> {
  // Created with its final mode: a secret must never exist on disk with a wider one.
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file holding credentials or keys: owner-only, written atomically, its folder made first. */
export async function writePrivateFile(path: string, contents: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, contents);
}

/** A directory of the local stack: owner-only, even when it existed before with a wider mode. */
export async function makePrivateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

/** Appends a log line to an owner-only file (the mode applies when the append creates it). */
export function appendPrivateLine(path: string, line: string): void {
  appendFileSync(path, line, { mode: 0o600 });
}

/**
 * Takes group and other permissions off everything under `root` (symbolic links are left alone):
 * for data directories made before the stack was owner-only, and for files other code or DynamoDB
 * Local created with the process's own umask.
 */
export async function restrictToOwner(root: string): Promise<void> {
  const entry = await lstat(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!entry || entry.isSymbolicLink()) return;
  if ((entry.mode & 0o077) !== 0) await chmod(root, entry.mode & 0o700).catch(ignoreVanished);
  if (!entry.isDirectory()) return;
  const names = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    ignoreVanished(error);
    return [];
  });
  for (const name of names) await restrictToOwner(join(root, name));
}

function ignoreVanished(error: NodeJS.ErrnoException): void {
  // A temporary file renamed or removed while we walk: nothing left to restrict.
  if (error.code !== 'ENOENT') throw error;
}

/**
 * Runs `start` (which must start a child process synchronously, as spawn and fork do) with umask
 * 077, so that every file and directory the child creates is owner-only from its first moment; the
 * process's own umask is restored before anything else runs.
 */
export function withOwnerOnlyUmask<T>(start: () => T): T {
  const previous = process.umask(0o077);
  try {
    return start();
  } finally {
    process.umask(previous);
  }
}
