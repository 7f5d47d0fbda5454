import { objectId } from '../core/ids.ts';
import type { Page } from '../objects/store.ts';
import { type AttributesWire, attributesWire, type DeletedFields, deletedFields, mapPage, recordId } from '../objects/wire.ts';
import type { VaultAddress } from '../vaults/vault.ts';
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

/**
 * Azure's certificate shapes (reference §1.3), built from the service's records and the vault's URL.
 * A certificate's key and secret share its name and version: `kid` and `sid` name them.
 */
export interface CertificatePolicyWire extends Omit<CertificatePolicy, 'attributes'> {
  id: string;
  attributes: { enabled: boolean; created: number; updated: number };
}

export interface CertificateBundle {
  id: string;
  kid: string;
  sid: string;
  x5t?: string;
  cer?: string;
  contentType: string;
  attributes: AttributesWire;
  tags?: Record<string, string>;
  policy?: CertificatePolicyWire;
  preserveCertOrder?: boolean;
}

export interface CertificateItem {
  id: string;
  attributes: AttributesWire;
  tags?: Record<string, string>;
  x5t?: string;
}

export type DeletedCertificateBundle = DeletedFields & CertificateBundle;
export type DeletedCertificateItem = CertificateItem & DeletedFields;

export interface CertificateOperationWire {
  id: string;
  issuer: { name: string; cty?: string; cert_transparency?: boolean };
  csr?: string;
  cancellation_requested: boolean;
  status: string;
  status_details?: string;
  error?: { code: string; message: string };
  target?: string;
  request_id: string;
  preserveCertOrder?: boolean;
}

export interface ContactsWire {
  id: string;
  contacts?: { email?: string; name?: string; phone?: string }[];
}

export interface IssuerBundle {
  id: string;
  provider: string;
  credentials?: { account_id?: string };
  org_details?: IssuerRecord['org_details'];
  attributes: IssuerRecord['attributes'];
}

export interface IssuerItem {
  id: string;
  provider: string;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function certificatePolicyWire(at: VaultAddress, name: string, policy: CertificatePolicy): CertificatePolicyWire {
  return { id: `${objectId(at.baseUrl, 'certificates', name)}/policy`, ...policy };
}

export function certificateBundle(at: VaultAddress, record: CertificateRecord): CertificateBundle {
  return {
    id: recordId(at, 'certificates', record, true),
    kid: objectId(at.baseUrl, 'keys', record.name, record.version),
    sid: objectId(at.baseUrl, 'secrets', record.name, record.version),
    ...(record.x5t ? { x5t: record.x5t } : {}),
    ...(record.cer ? { cer: base64(record.cer) } : {}),
    contentType: record.contentType,
    attributes: attributesWire(at.vault, record.attributes),
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.policy ? { policy: certificatePolicyWire(at, record.name, record.policy) } : {}),
    ...(record.preserveCertOrder !== undefined ? { preserveCertOrder: record.preserveCertOrder } : {}),
  };
}

export function deletedCertificateBundle(at: VaultAddress, record: DeletedCertificateRecord): DeletedCertificateBundle {
  return { ...deletedFields(at, 'certificates', record), ...certificateBundle(at, record) };
}

/** `versioned` for a list of one certificate's versions; a list of certificates names each certificate only. */
function certificateItem(at: VaultAddress, record: CertificateItemRecord, versioned = false): CertificateItem {
  return {
    id: recordId(at, 'certificates', record, versioned),
    attributes: attributesWire(at.vault, record.attributes),
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.x5t ? { x5t: record.x5t } : {}),
  };
}

export function certificateItemPage(at: VaultAddress, page: Page<CertificateItemRecord>, versioned = false): Page<CertificateItem> {
  return mapPage(page, (record) => certificateItem(at, record, versioned));
}

export function deletedCertificateItemPage(at: VaultAddress, page: Page<DeletedCertificateItemRecord>): Page<DeletedCertificateItem> {
  return mapPage(page, (record) => ({ ...certificateItem(at, record), ...deletedFields(at, 'certificates', record) }));
}

export function certificateOperationWire(at: VaultAddress, record: CertificateOperationRecord): CertificateOperationWire {
  return {
    id: `${objectId(at.baseUrl, 'certificates', record.name)}/pending`,
    issuer: record.issuer,
    ...(record.csr ? { csr: base64(record.csr) } : {}),
    cancellation_requested: record.cancellationRequested,
    status: record.status,
    ...(record.statusDetails !== undefined ? { status_details: record.statusDetails } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(record.targetVersion ? { target: objectId(at.baseUrl, 'certificates', record.name, record.targetVersion) } : {}),
    request_id: record.requestId,
    ...(record.preserveCertOrder !== undefined ? { preserveCertOrder: record.preserveCertOrder } : {}),
  };
}

export function contactsWire(at: VaultAddress, record: ContactsRecord): ContactsWire {
  return { id: `${at.baseUrl}/certificates/contacts`, ...(record.contacts.length > 0 ? { contacts: record.contacts } : {}) };
}

function issuerId(at: VaultAddress, name: string): string {
  return `${at.baseUrl}/certificates/issuers/${name}`;
}

export function issuerBundle(at: VaultAddress, record: IssuerRecord): IssuerBundle {
  return {
    id: issuerId(at, record.name),
    provider: record.provider,
    ...(record.credentials ? { credentials: record.credentials } : {}),
    ...(record.org_details ? { org_details: record.org_details } : {}),
    attributes: record.attributes,
  };
}

export function issuerItemPage(at: VaultAddress, page: Page<IssuerRecord>): Page<IssuerItem> {
  return mapPage(page, (record) => ({ id: issuerId(at, record.name), provider: record.provider }));
}
