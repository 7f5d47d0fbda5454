import type { Curve } from '../keys/algorithms.ts';
import type { Deleted, ObjectRecord } from '../objects/records.ts';

/**
 * What the certificates domain answers (reference §1.3). The policy is kept in Azure's own
 * snake_case shape: it is stored, answered and compared as the clients send it.
 */
export type CertificateKeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';
export type CertificateContentType = 'application/x-pkcs12' | 'application/x-pem-file';
export type LifetimeActionType = 'EmailContacts' | 'AutoRenew';

export interface LifetimeAction {
  trigger: { lifetime_percentage?: number; days_before_expiry?: number };
  action: { action_type: LifetimeActionType };
}

export interface CertificatePolicy {
  key_props: { exportable: boolean; kty: CertificateKeyType; key_size?: number; crv?: Curve; reuse_key: boolean };
  secret_props: { contentType: CertificateContentType };
  x509_props: {
    subject: string;
    sans?: { emails?: string[]; dns_names?: string[]; upns?: string[] };
    ekus?: string[];
    key_usage?: string[];
    validity_months: number;
  };
  lifetime_actions: LifetimeAction[];
  issuer: { name: string; cty?: string; cert_transparency?: boolean };
  attributes: { enabled: boolean; created: number; updated: number };
}

export interface CertificateRecord extends ObjectRecord {
  /** The certificate, DER; absent while its first version is pending (issuer Unknown, before the merge). */
  cer?: Uint8Array;
  /** base64url SHA-1 thumbprint of `cer`. */
  x5t?: string;
  contentType: CertificateContentType;
  /** Present on get, create, import, merge and update; lists do not carry it. */
  policy?: CertificatePolicy;
  preserveCertOrder?: boolean;
}

/** A list item: what the head carries, without the certificate itself. */
export interface CertificateItemRecord extends ObjectRecord {
  x5t?: string;
}

export type DeletedCertificateRecord = Deleted<CertificateRecord>;
export type DeletedCertificateItemRecord = Deleted<CertificateItemRecord>;

export type CertificateOperationStatus = 'inProgress' | 'completed' | 'failed' | 'cancelled';

export interface CertificateOperationRecord {
  name: string;
  issuer: { name: string; cty?: string; cert_transparency?: boolean };
  /** The PKCS#10 request, DER: present while an outside CA is to sign it (issuer Unknown). */
  csr?: Uint8Array;
  cancellationRequested: boolean;
  status: CertificateOperationStatus;
  statusDetails?: string;
  error?: { code: string; message: string };
  /** The version the operation made, once completed. */
  targetVersion?: string;
  requestId: string;
  preserveCertOrder?: boolean;
}

export interface Contact {
  email?: string;
  name?: string;
  phone?: string;
}

export interface ContactsRecord {
  contacts: Contact[];
}

export interface IssuerRecord {
  name: string;
  provider: string;
  /** The account id only: a password is kept sealed and never answered. */
  credentials?: { account_id?: string };
  org_details?: { id?: string; admin_details?: { first_name?: string; last_name?: string; email?: string; phone?: string }[] };
  attributes: { enabled: boolean; created: number; updated: number };
}
