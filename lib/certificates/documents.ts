import type { Page } from '../objects/store.ts';

/**
 * The port for a vault's certificate documents that are not versioned objects: its certificate
 * contacts (one document named `contacts`), its issuers (one per issuer name) and its certificates'
 * operations (one per certificate name: the pending creation, kept after it completes as Azure keeps
 * it). Plain JSON; whatever in it is secret (an issuer's password, a pending private key) reaches
 * this port already sealed. Names are case-insensitive and keep their casing. Purging the vault
 * removes them. lib/aws/dynamo-certificate-documents.ts implements it on the objects table,
 * lib/certificates/memory-documents.ts in memory; test/contract/certificate-documents.contract.ts holds
 * both to the same behaviour.
 */
export type CertificateDocumentKind = 'contacts' | 'issuers' | 'operations';

export interface CertificateDocument {
  /** The name as first written. */
  name: string;
  document: Record<string, unknown>;
}

export interface CertificateDocuments {
  get(vault: string, kind: CertificateDocumentKind, name: string): Promise<CertificateDocument | undefined>;
  /** Writes the document, replacing any of that name (keeping the first casing of the name). */
  put(vault: string, kind: CertificateDocumentKind, name: string, document: Record<string, unknown>): Promise<void>;
  /** Removes the document; false when there was none. */
  delete(vault: string, kind: CertificateDocumentKind, name: string): Promise<boolean>;
  /** In name order (lowercased), `limit` at most, with a cursor for the next page. */
  list(vault: string, kind: CertificateDocumentKind, limit: number, cursor?: string): Promise<Page<CertificateDocument>>;
}
