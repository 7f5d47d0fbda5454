import { readFileSync, statSync } from 'node:fs';
import { type ClockOffsets, type VaultClock, vaultClock } from '../core/clock.ts';
import type { Config } from './config.ts';

/**
 * The local stack's time shift, read where the services read their clock. The offsets live in a
 * small JSON file (config.ts `clockOffsetsFile`) that the local gateway writes (`POST /_coffer/time`)
 * and every reader in its process follows: the handlers, the stream reader, the scheduler. A file
 * because it must outlive a restart of the stack, and because the readers are many and built
 * independently. In a deployment the setting is absent: no offsets, real time, no file is read.
 *
 * The file: `{"offsets": {"<vault, lower case>": seconds, "*": seconds}}`. A vault's offset is its
 * own plus the `*` one, so advancing `*` moves every vault, those made later included.
 */
export const ALL_VAULTS = '*';

export interface OffsetsDocument {
  offsets: Record<string, number>;
}

/** The offsets a file holds; a missing file holds none. Anything else than the document above is refused loudly. */
export function readOffsetsFile(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<OffsetsDocument> | null;
  const offsets = parsed?.offsets;
  if (!offsets || typeof offsets !== 'object' || Array.isArray(offsets)) throw new Error(`${path} holds no clock offsets object`);
  for (const [vault, seconds] of Object.entries(offsets)) {
    if (!Number.isSafeInteger(seconds) || seconds < 0) throw new Error(`${path}: the offset of '${vault}' is not a whole number of seconds`);
  }
  return { ...offsets };
}

/** A vault's offset out of the file's entries: its own plus every vault's. */
export function offsetOf(offsets: Record<string, number>, vault: string): number {
  return (offsets[vault.toLowerCase()] ?? 0) + (offsets[ALL_VAULTS] ?? 0);
}

/**
 * Reads the file again only when it changed: one stat per clock reading, compared by inode, size
 * and modification time in nanoseconds (the writer replaces the file by a rename, so every write is
 * a new inode), so an advance is seen by the very next reading in any reader.
 */
export class FileClockOffsets implements ClockOffsets {
  private seen: { stamp: string; offsets: Record<string, number> } | undefined;

  constructor(private readonly path: string) {}

  offsetSeconds(vault: string): number {
    return offsetOf(this.current(), vault);
  }

  /** Every entry of the file, `*` included. */
  current(): Record<string, number> {
    const stats = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    const stamp = stats ? `${stats.ino}:${stats.size}:${stats.mtimeNs}` : 'absent';
    if (this.seen?.stamp !== stamp) this.seen = { stamp, offsets: stats ? readOffsetsFile(this.path) : {} };
    return this.seen.offsets;
  }
}

/** How far ahead of real time the furthest clock is (its own offset plus every vault's): how far ahead a sweep of due work asks its index. */
export function lookaheadOf(offsets: FileClockOffsets | undefined): () => number {
  if (!offsets) return () => 0;
  return () => {
    const entries = offsets.current();
    const own = Object.entries(entries).filter(([vault]) => vault !== ALL_VAULTS);
    return Math.max(0, ...own.map(([, seconds]) => seconds)) + (entries[ALL_VAULTS] ?? 0);
  };
}

/** The services' clock as the configuration says: real time, or real time plus the time shift's offsets. */
export function configuredVaultClock(cfg: Pick<Config, 'clockOffsetsFile'>): VaultClock {
  return vaultClock(cfg.clockOffsetsFile ? new FileClockOffsets(cfg.clockOffsetsFile) : undefined);
}
