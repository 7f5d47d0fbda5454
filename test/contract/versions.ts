import { newVersionId } from '../../lib/objects/rules.ts';
import type { Page, StoredVersion } from '../../lib/objects/store.ts';

/** What the object store contract suites build their objects from. */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(value: string): Uint8Array {
  return encoder.encode(value);
}

export function text(value: Uint8Array): string {
  return decoder.decode(value);
}

/** A version whose metadata and secret say which one it is (`meta-<n>`, `secret-<n>`). */
export function version(name: string, n: number): StoredVersion {
  return {
    name,
    version: newVersionId(),
    attributes: { enabled: true, created: 1000 + n, updated: 1000 + n },
    meta: bytes(`meta-${n}`),
    secret: bytes(`secret-${n}`),
    plain: { n, managed: false, ops: ['sign', 'verify'] },
  };
}

/** Follows the cursors from the first page to the last; fails rather than loop forever. */
export async function allPages<T>(read: (cursor?: string) => Promise<Page<T>>): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page);
    cursor = page.cursor;
    if (pages.length > 50) throw new Error('the listing does not end');
  } while (cursor);
  return pages;
}
