import type { Page } from '../objects/store.ts';
import type { CertificateDocument, CertificateDocumentKind, CertificateDocuments } from './documents.ts';

/**
 * The certificate documents in memory, for fast tests of the certificates domain, with the DynamoDB
 * store's semantics (test/contract/certificate-documents.contract.ts holds both to them): names
 * matched lowercased but kept in their first casing, pages in lowercased-name order (UTF-8 bytes, as
 * DynamoDB orders sort keys) whose cursor is the last name, undefined values left out as DynamoDB
 * leaves them out. Documents go in and out as copies, so a caller changing what it passed or got
 * back changes nothing stored.
 */
export class MemoryCertificateDocuments implements CertificateDocuments {
  /** Keyed by vault and kind, then by lowercased name. */
  private readonly spaces = new Map<string, Map<string, CertificateDocument>>();

  async get(vault: string, kind: CertificateDocumentKind, name: string): Promise<CertificateDocument | undefined> {
    const stored = this.space(vault, kind).get(name.toLowerCase());
    return stored && copyDocument(stored);
  }

  async put(vault: string, kind: CertificateDocumentKind, name: string, document: Record<string, unknown>): Promise<void> {
    const space = this.space(vault, kind);
    const key = name.toLowerCase();
    space.set(key, { name: space.get(key)?.name ?? name, document: storedCopy(document) as Record<string, unknown> });
  }

  async delete(vault: string, kind: CertificateDocumentKind, name: string): Promise<boolean> {
    return this.space(vault, kind).delete(name.toLowerCase());
  }

  async list(vault: string, kind: CertificateDocumentKind, limit: number, cursor?: string): Promise<Page<CertificateDocument>> {
    const space = this.space(vault, kind);
    // One item further than the page, so only a page with more after it carries a cursor.
    const after = [...space.keys()].sort(compareUtf8).filter((key) => cursor === undefined || compareUtf8(key, cursor) > 0);
    const keys = after.slice(0, limit);
    const last = keys[keys.length - 1];
    return {
      items: keys.map((key) => copyDocument(space.get(key)!)),
      cursor: after.length > limit && last !== undefined ? last : undefined,
    };
  }

  private space(vault: string, kind: CertificateDocumentKind): Map<string, CertificateDocument> {
    const id = JSON.stringify([vault, kind]);
    let space = this.spaces.get(id);
    if (!space) {
      space = new Map();
      this.spaces.set(id, space);
    }
    return space;
  }
}

function copyDocument(stored: CertificateDocument): CertificateDocument {
  return { name: stored.name, document: storedCopy(stored.document) as Record<string, unknown> };
}

/** A deep copy as DynamoDB would store it: bytes stay bytes, undefined values (in maps and lists) are left out. */
function storedCopy(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(storedCopy);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, storedCopy(v)]])));
  }
  return value;
}

const utf8 = new TextEncoder();

/** DynamoDB orders string sort keys by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}
