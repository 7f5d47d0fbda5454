import { nowSeconds } from '../core/clock.ts';
import type { HsmKeys } from '../keys/hsm.ts';
import type { Warn } from '../keys/hsm-changes.ts';
import type { BackupProtector } from '../objects/backup.ts';
import type { ObjectSealer } from '../objects/sealing.ts';
import type { ObjectStore, Page } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { CertificateDocuments } from './documents.ts';
import type {
  CertificateItemRecord,
  CertificateOperationRecord,
  CertificatePolicy,
  CertificateRecord,
  ContactsRecord,
  DeletedCertificateItemRecord,
  DeletedCertificateRecord,
  IssuerRecord,
} from './records.ts';
import type {
  CertificatePolicyInput,
  ContactsInput,
  CreateCertificateInput,
  ImportCertificateInput,
  MergeCertificateInput,
  SetIssuerInput,
  UpdateCertificateInput,
  UpdateCertificateOperationInput,
  UpdateIssuerInput,
} from './schemas.ts';

/** What the certificates domain is built from (lib/runtime/certificates.ts wires it). */
export interface CertificateServiceParts {
  objects: ObjectStore;
  sealer: ObjectSealer;
  backups: BackupProtector;
  documents: CertificateDocuments;
  hsm: HsmKeys;
  warn: Warn;
  /** Tags every KMS key this service creates carries (the deployment's, see lib/runtime/config.ts). */
  kmsKeyTags?: Record<string, string>;
  clock?: () => number;
}

/**
 * The certificates domain (reference §1.3): a certificate is three objects of one name, the
 * certificate, its managed key and its managed secret, written, deleted, recovered, purged, backed up
 * and restored together. Answers records; lib/certificates/wire.ts prints them as Azure's shapes.
 */
export class CertificateService {
  private readonly clock: () => number;

  constructor(private readonly parts: CertificateServiceParts) {
    this.clock = parts.clock ?? nowSeconds;
  }

  create(_at: VaultAddress, _name: string, _input: CreateCertificateInput): Promise<CertificateOperationRecord> {
    throw new Error('not yet');
  }

  import(_at: VaultAddress, _name: string, _input: ImportCertificateInput): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  /** The named version, or the latest when the version is empty or absent, with the certificate's policy. */
  get(_at: VaultAddress, _name: string, _version: string | undefined): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  /** Each certificate as its latest version; with `includePending`, certificates whose first version is still pending too. */
  list(_at: VaultAddress, _limit: number, _cursor: string | undefined, _includePending: boolean): Promise<Page<CertificateItemRecord>> {
    throw new Error('not yet');
  }

  listVersions(_at: VaultAddress, _name: string, _limit: number, _cursor?: string): Promise<Page<CertificateItemRecord>> {
    throw new Error('not yet');
  }

  update(_at: VaultAddress, _name: string, _version: string | undefined, _input: UpdateCertificateInput): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  getPolicy(_at: VaultAddress, _name: string): Promise<CertificatePolicy> {
    throw new Error('not yet');
  }

  updatePolicy(_at: VaultAddress, _name: string, _input: CertificatePolicyInput): Promise<CertificatePolicy> {
    throw new Error('not yet');
  }

  delete(_at: VaultAddress, _name: string): Promise<DeletedCertificateRecord> {
    throw new Error('not yet');
  }

  getDeleted(_at: VaultAddress, _name: string): Promise<DeletedCertificateRecord> {
    throw new Error('not yet');
  }

  listDeleted(_at: VaultAddress, _limit: number, _cursor?: string): Promise<Page<DeletedCertificateItemRecord>> {
    throw new Error('not yet');
  }

  recover(_at: VaultAddress, _name: string): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  purge(_at: VaultAddress, _name: string): Promise<void> {
    throw new Error('not yet');
  }

  backup(_at: VaultAddress, _name: string): Promise<string> {
    throw new Error('not yet');
  }

  restore(_at: VaultAddress, _blob: string): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  getOperation(_at: VaultAddress, _name: string): Promise<CertificateOperationRecord> {
    throw new Error('not yet');
  }

  /** `cancellation_requested: true` cancels a pending operation. */
  updateOperation(_at: VaultAddress, _name: string, _input: UpdateCertificateOperationInput): Promise<CertificateOperationRecord> {
    throw new Error('not yet');
  }

  deleteOperation(_at: VaultAddress, _name: string): Promise<CertificateOperationRecord> {
    throw new Error('not yet');
  }

  merge(_at: VaultAddress, _name: string, _input: MergeCertificateInput): Promise<CertificateRecord> {
    throw new Error('not yet');
  }

  getContacts(_at: VaultAddress): Promise<ContactsRecord> {
    throw new Error('not yet');
  }

  setContacts(_at: VaultAddress, _input: ContactsInput): Promise<ContactsRecord> {
    throw new Error('not yet');
  }

  deleteContacts(_at: VaultAddress): Promise<ContactsRecord> {
    throw new Error('not yet');
  }

  getIssuer(_at: VaultAddress, _name: string): Promise<IssuerRecord> {
    throw new Error('not yet');
  }

  setIssuer(_at: VaultAddress, _name: string, _input: SetIssuerInput): Promise<IssuerRecord> {
    throw new Error('not yet');
  }

  updateIssuer(_at: VaultAddress, _name: string, _input: UpdateIssuerInput): Promise<IssuerRecord> {
    throw new Error('not yet');
  }

  deleteIssuer(_at: VaultAddress, _name: string): Promise<IssuerRecord> {
    throw new Error('not yet');
  }

  listIssuers(_at: VaultAddress, _limit: number, _cursor?: string): Promise<Page<IssuerRecord>> {
    throw new Error('not yet');
  }
}
