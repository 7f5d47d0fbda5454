import type { ObjectSealer } from '../objects/sealing.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { CertificateDocuments } from './documents.ts';
import type { CertificateOperationRecord } from './records.ts';

/**
 * A certificate's operation document (the `/pending` resource): the creation in progress, kept once it
 * is done, as Azure keeps it. While a CSR is out with a CA, it also holds what the merge needs: the
 * version the certificate will have, its key material (sealed; an HSM key only by its KMS key) and the
 * attributes and tags of the create (sealed: tags are the caller's).
 */
export interface PendingParts {
  version: string;
  /** ManagedKeys.sealPending's output. */
  key?: Record<string, unknown>;
  /** Whether the key was made for this operation (and goes if it is cancelled), or reused. */
  freshKey?: boolean;
  /** The sealed JSON of PendingRequest, base64. */
  request?: string;
}

export interface PendingRequest {
  attributes?: { enabled?: boolean | null } | null;
  tags?: Record<string, string> | null;
  preserveCertOrder?: boolean | null;
}

export interface StoredOperation {
  record: CertificateOperationRecord;
  parts: PendingParts;
}

export class CertificateOperations {
  constructor(
    private readonly documents: CertificateDocuments,
    private readonly sealer: ObjectSealer,
  ) {}

  async get(at: VaultAddress, name: string): Promise<StoredOperation | undefined> {
    const stored = await this.documents.get(at.vault.name, 'operations', name);
    if (!stored) return undefined;
    const { record, parts } = stored.document as { record: WireSafeRecord; parts: PendingParts };
    return { record: { ...record, ...(record.csr ? { csr: Buffer.from(record.csr, 'base64') } : {}) } as CertificateOperationRecord, parts };
  }

  async put(at: VaultAddress, name: string, operation: StoredOperation): Promise<void> {
    const { csr, ...rest } = operation.record;
    const record: WireSafeRecord = { ...rest, ...(csr ? { csr: Buffer.from(csr).toString('base64') } : {}) };
    await this.documents.put(at.vault.name, 'operations', name, { record, parts: operation.parts } as unknown as Record<string, unknown>);
  }

  delete(at: VaultAddress, name: string): Promise<boolean> {
    return this.documents.delete(at.vault.name, 'operations', name);
  }

  async sealRequest(at: VaultAddress, name: string, version: string, request: PendingRequest): Promise<string> {
    const sealed = await this.sealer.sealJson(at.vault, { collection: 'certificates', name, version }, 'meta', request);
    return Buffer.from(sealed).toString('base64');
  }

  async openRequest(at: VaultAddress, name: string, parts: PendingParts): Promise<PendingRequest> {
    if (!parts.request) return {};
    return this.sealer.openJson<PendingRequest>(
      at.vault,
      { collection: 'certificates', name, version: parts.version },
      'meta',
      Buffer.from(parts.request, 'base64'),
    );
  }
}

type WireSafeRecord = Omit<CertificateOperationRecord, 'csr'> & { csr?: string };
