import * as z from 'zod/mini';
import type { Collection } from '../core/kinds.ts';
import type { ManagementProvider } from './api-version.ts';
import { managementParameters, namedIssuer, namedObject, objectVersion, type PathSchema } from './path-parameters.ts';

/**
 * The one route table. Every API operation is listed here once, with everything about it: serverless.yml's
 * functions and the local HTTPS gateway are generated from it (so what runs locally is what deploys), and
 * the request pipeline reads the rest.
 *
 * - `operation` is the Azure REST operation id; it names the Lambda function and the handler file
 *   (`handler` is its kebab-case under functions/).
 * - `plane`: the vault data plane, Managed HSM's data plane, or the ARM-shaped management plane; each has
 *   its own pipeline (lib/http/pipelines.ts).
 * - `path` uses API Gateway's `{param}` syntax. Azure paths are case-insensitive: the gateway matches
 *   literal segments case-insensitively; a trailing slash means "latest version" (see `optionalTail`).
 * - `permission` is what the caller needs: the RBAC DataAction without the `Microsoft.KeyVault/vaults/`
 *   prefix on the data planes, a management action on the management plane.
 * - `scope` is what the operation addresses, for authorization: the vault itself, or one object of a
 *   collection, named by a path parameter.
 * - `params` validates the path parameters; the handler receives them typed (`name`, `version`).
 * - `since` is the first api-version the operation exists in; older versions get a 400.
 * - `auditId` says how the audit record's object id is built: `path` from the addressed object (and the
 *   version the path names), `deleted` from the addressed deleted object, `answer` from the id of the
 *   version the answer carries (the one created, read or changed). Without it, the record names no object.
 * - `paged` lists take `maxresults` and `$skiptoken` and answer `{value, nextLink}`.
 * - `audit` is Key Vault's audit `operationName` for the operation.
 */
export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export type Plane = 'data' | 'managedHsm' | 'management';

/**
 * What a data-plane route addresses (the vault, or one object named by a path parameter), or on the
 * management plane which ARM scope its permission is checked at: the tenant (nothing in the path),
 * the path's subscription, resource group or vault, or `path` for the role-assignment and
 * role-definition routes, whose scope is the part of the path before `/providers/Microsoft.Authorization`,
 * and for a managed HSM pool's routes, whose path is the pool's resource id.
 */
export type RouteScope = 'vault' | { readonly collection: Collection; readonly parameter: 'name' } | 'tenant' | 'subscription' | 'resourceGroup' | 'path';

export type AuditIdSource = 'path' | 'deleted' | 'answer';

export interface Route {
  readonly operation: string;
  readonly plane: Plane;
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: string;
  readonly permission: string;
  readonly scope: RouteScope;
  readonly params?: PathSchema;
  readonly since?: string;
  readonly auditId?: AuditIdSource;
  readonly paged?: boolean;
  readonly audit: string;
  /**
   * A data-plane route's permission in an access-policy vault (`secrets/get`, reference §6); absent
   * when no access policy grants the operation.
   */
  readonly accessPolicy?: string;
  /** A management route's resource provider: which api-versions it answers (lib/http/api-version.ts). */
  readonly provider?: ManagementProvider;
  /**
   * The last path parameter may be empty or absent: Azure SDKs call `GET /secrets/{name}/` for the
   * latest version, and `GET /secrets/{name}` must work too.
   */
  readonly optionalTail?: boolean;
  /**
   * The `{version}` segment inside the path may be absent as well as empty: `POST /keys/{name}/release`
   * means the latest version like `POST /keys/{name}//release`, instead of reading as a version.
   */
  readonly optionalVersion?: boolean;
}

const secret = { collection: 'secrets', parameter: 'name' } as const;
const secretName = namedObject('secrets');
const secretVersion = objectVersion('secrets');
const key = { collection: 'keys', parameter: 'name' } as const;
const keyName = namedObject('keys');
const keyVersion = objectVersion('keys');
const certificate = { collection: 'certificates', parameter: 'name' } as const;
const certificateName = namedObject('certificates');
const certificateVersion = objectVersion('certificates');
const issuerName = namedIssuer();
const management = managementParameters;
/** A managed HSM pool's `{name}` (Azure's own parameter name) beside the management parameters; its precise rule is the pool manager's. */
const managedHsm = z.extend(managementParameters, { name: z.optional(z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[^/]+$/))) });
const MANAGED_HSMS = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/managedHSMs';
const DELETED_MANAGED_HSM = '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/deletedManagedHSMs/{name}';

export const routes = [
  // Secrets (reference §1.1)
  { operation: 'SetSecret', plane: 'data', method: 'PUT', path: '/secrets/{name}', handler: 'secrets/set-secret', permission: 'secrets/setSecret/action', scope: secret, params: secretName, auditId: 'answer', audit: 'SecretSet', accessPolicy: 'secrets/set' },
  { operation: 'GetSecrets', plane: 'data', method: 'GET', path: '/secrets', handler: 'secrets/get-secrets', permission: 'secrets/readMetadata/action', scope: 'vault', paged: true, audit: 'SecretList', accessPolicy: 'secrets/list' },
  { operation: 'GetSecretVersions', plane: 'data', method: 'GET', path: '/secrets/{name}/versions', handler: 'secrets/get-secret-versions', permission: 'secrets/readMetadata/action', scope: secret, params: secretName, paged: true, audit: 'SecretListVersions', accessPolicy: 'secrets/list' },
  { operation: 'GetSecret', plane: 'data', method: 'GET', path: '/secrets/{name}/{version}', handler: 'secrets/get-secret', permission: 'secrets/getSecret/action', scope: secret, params: secretVersion, auditId: 'answer', audit: 'SecretGet', optionalTail: true, accessPolicy: 'secrets/get' },
  { operation: 'UpdateSecret', plane: 'data', method: 'PATCH', path: '/secrets/{name}/{version}', handler: 'secrets/update-secret', permission: 'secrets/update/action', scope: secret, params: secretVersion, auditId: 'answer', audit: 'SecretUpdate', optionalTail: true, accessPolicy: 'secrets/set' },
  { operation: 'DeleteSecret', plane: 'data', method: 'DELETE', path: '/secrets/{name}', handler: 'secrets/delete-secret', permission: 'secrets/delete', scope: secret, params: secretName, auditId: 'answer', audit: 'SecretDelete', accessPolicy: 'secrets/delete' },
  { operation: 'BackupSecret', plane: 'data', method: 'POST', path: '/secrets/{name}/backup', handler: 'secrets/backup-secret', permission: 'secrets/backup/action', scope: secret, params: secretName, auditId: 'path', audit: 'SecretBackup', accessPolicy: 'secrets/backup' },
  { operation: 'RestoreSecret', plane: 'data', method: 'POST', path: '/secrets/restore', handler: 'secrets/restore-secret', permission: 'secrets/restore/action', scope: 'vault', auditId: 'answer', audit: 'SecretRestore', accessPolicy: 'secrets/restore' },
  { operation: 'GetDeletedSecrets', plane: 'data', method: 'GET', path: '/deletedsecrets', handler: 'secrets/get-deleted-secrets', permission: 'secrets/readMetadata/action', scope: 'vault', paged: true, audit: 'SecretListDeleted', accessPolicy: 'secrets/list' },
  { operation: 'GetDeletedSecret', plane: 'data', method: 'GET', path: '/deletedsecrets/{name}', handler: 'secrets/get-deleted-secret', permission: 'secrets/readMetadata/action', scope: secret, params: secretName, auditId: 'answer', audit: 'SecretGetDeleted', accessPolicy: 'secrets/get' },
  { operation: 'PurgeDeletedSecret', plane: 'data', method: 'DELETE', path: '/deletedsecrets/{name}', handler: 'secrets/purge-deleted-secret', permission: 'secrets/purge/action', scope: secret, params: secretName, auditId: 'deleted', audit: 'SecretPurge', accessPolicy: 'secrets/purge' },
  { operation: 'RecoverDeletedSecret', plane: 'data', method: 'POST', path: '/deletedsecrets/{name}/recover', handler: 'secrets/recover-deleted-secret', permission: 'secrets/recover/action', scope: secret, params: secretName, auditId: 'answer', audit: 'SecretRecover', accessPolicy: 'secrets/recover' },

  // Keys (reference §1.2, §3)
  { operation: 'CreateKey', plane: 'data', method: 'POST', path: '/keys/{name}/create', handler: 'keys/create-key', permission: 'keys/create/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyCreate', accessPolicy: 'keys/create' },
  { operation: 'ImportKey', plane: 'data', method: 'PUT', path: '/keys/{name}', handler: 'keys/import-key', permission: 'keys/import/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyImport', accessPolicy: 'keys/import' },
  { operation: 'GetKeys', plane: 'data', method: 'GET', path: '/keys', handler: 'keys/get-keys', permission: 'keys/read', scope: 'vault', paged: true, audit: 'KeyList', accessPolicy: 'keys/list' },
  { operation: 'GetKeyVersions', plane: 'data', method: 'GET', path: '/keys/{name}/versions', handler: 'keys/get-key-versions', permission: 'keys/read', scope: key, params: keyName, paged: true, audit: 'KeyListVersions', accessPolicy: 'keys/list' },
  { operation: 'GetKey', plane: 'data', method: 'GET', path: '/keys/{name}/{version}', handler: 'keys/get-key', permission: 'keys/read', scope: key, params: keyVersion, auditId: 'answer', audit: 'KeyGet', optionalTail: true, accessPolicy: 'keys/get' },
  { operation: 'UpdateKey', plane: 'data', method: 'PATCH', path: '/keys/{name}/{version}', handler: 'keys/update-key', permission: 'keys/update/action', scope: key, params: keyVersion, auditId: 'answer', audit: 'KeyUpdate', optionalTail: true, accessPolicy: 'keys/update' },
  { operation: 'DeleteKey', plane: 'data', method: 'DELETE', path: '/keys/{name}', handler: 'keys/delete-key', permission: 'keys/delete', scope: key, params: keyName, auditId: 'answer', audit: 'KeyDelete', accessPolicy: 'keys/delete' },
  { operation: 'BackupKey', plane: 'data', method: 'POST', path: '/keys/{name}/backup', handler: 'keys/backup-key', permission: 'keys/backup/action', scope: key, params: keyName, auditId: 'path', audit: 'KeyBackup', accessPolicy: 'keys/backup' },
  { operation: 'RestoreKey', plane: 'data', method: 'POST', path: '/keys/restore', handler: 'keys/restore-key', permission: 'keys/restore/action', scope: 'vault', auditId: 'answer', audit: 'KeyRestore', accessPolicy: 'keys/restore' },
  { operation: 'Encrypt', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/encrypt', handler: 'keys/encrypt', permission: 'keys/encrypt/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyEncrypt', accessPolicy: 'keys/encrypt' },
  { operation: 'Decrypt', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/decrypt', handler: 'keys/decrypt', permission: 'keys/decrypt/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyDecrypt', accessPolicy: 'keys/decrypt' },
  { operation: 'WrapKey', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/wrapkey', handler: 'keys/wrap-key', permission: 'keys/wrap/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyWrap', accessPolicy: 'keys/wrapKey' },
  { operation: 'UnwrapKey', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/unwrapkey', handler: 'keys/unwrap-key', permission: 'keys/unwrap/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyUnwrap', accessPolicy: 'keys/unwrapKey' },
  { operation: 'Sign', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/sign', handler: 'keys/sign', permission: 'keys/sign/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeySign', accessPolicy: 'keys/sign' },
  { operation: 'Verify', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/verify', handler: 'keys/verify', permission: 'keys/verify/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyVerify', accessPolicy: 'keys/verify' },
  { operation: 'RotateKey', plane: 'data', method: 'POST', path: '/keys/{name}/rotate', handler: 'keys/rotate-key', permission: 'keys/rotate/action', scope: key, params: keyName, auditId: 'answer', since: '7.3', audit: 'KeyRotate', accessPolicy: 'keys/rotate' },
  { operation: 'GetKeyRotationPolicy', plane: 'data', method: 'GET', path: '/keys/{name}/rotationpolicy', handler: 'keys/get-key-rotation-policy', permission: 'keyrotationpolicies/read', scope: key, params: keyName, auditId: 'path', since: '7.3', audit: 'KeyRotationPolicyGet', accessPolicy: 'keys/getrotationpolicy' },
  {
    operation: 'UpdateKeyRotationPolicy',
    plane: 'data',
    method: 'PUT',
    path: '/keys/{name}/rotationpolicy',
    handler: 'keys/update-key-rotation-policy',
    permission: 'keyrotationpolicies/write',
    scope: key,
    params: keyName,
    auditId: 'path',
    since: '7.3',
    audit: 'KeyRotationPolicySet',
    accessPolicy: 'keys/setrotationpolicy',
  },
  { operation: 'GetDeletedKeys', plane: 'data', method: 'GET', path: '/deletedkeys', handler: 'keys/get-deleted-keys', permission: 'keys/read', scope: 'vault', paged: true, audit: 'KeyListDeleted', accessPolicy: 'keys/list' },
  { operation: 'GetDeletedKey', plane: 'data', method: 'GET', path: '/deletedkeys/{name}', handler: 'keys/get-deleted-key', permission: 'keys/read', scope: key, params: keyName, auditId: 'answer', audit: 'KeyGetDeleted', accessPolicy: 'keys/get' },
  { operation: 'PurgeDeletedKey', plane: 'data', method: 'DELETE', path: '/deletedkeys/{name}', handler: 'keys/purge-deleted-key', permission: 'keys/purge/action', scope: key, params: keyName, auditId: 'deleted', audit: 'KeyPurge', accessPolicy: 'keys/purge' },
  { operation: 'RecoverDeletedKey', plane: 'data', method: 'POST', path: '/deletedkeys/{name}/recover', handler: 'keys/recover-deleted-key', permission: 'keys/recover/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyRecover', accessPolicy: 'keys/recover' },
  // Secure key release and key attestation are not offered: a clear 400 (lib/keys/rules.ts), not a 405
  // or "release" read as a version.
  { operation: 'ReleaseKey', plane: 'data', method: 'POST', path: '/keys/{name}/{version}/release', handler: 'keys/release-key', permission: 'keys/release/action', scope: key, params: keyVersion, since: '7.3', auditId: 'path', audit: 'KeyRelease', optionalVersion: true, accessPolicy: 'keys/release' },
  { operation: 'GetKeyAttestation', plane: 'data', method: 'GET', path: '/keys/{name}/{version}/attestation', handler: 'keys/get-key-attestation', permission: 'keys/read', scope: key, params: keyVersion, since: '7.6', auditId: 'path', audit: 'KeyGetAttestation', optionalVersion: true, accessPolicy: 'keys/get' },
  // Managed HSM's random bytes, offered by every vault; Administrator ('*') grants it.
  { operation: 'GetRandomBytes', plane: 'data', method: 'POST', path: '/rng', handler: 'keys/get-random-bytes', permission: 'rng/action', scope: 'vault', since: '7.3', audit: 'RandomBytesGet' },

  // Certificates (reference §1.3). Contacts and issuers are the vault's, not a certificate's (scope
  // vault). Their rows come before the `{name}/...` rows: `/certificates/issuers/policy` has two
  // literals for an issuer row and for a certificate row alike, and of equal rows the earlier wins, so
  // it is the issuer named `policy`, read from its leftmost literal.
  { operation: 'GetCertificates', plane: 'data', method: 'GET', path: '/certificates', handler: 'certificates/get-certificates', permission: 'certificates/read', scope: 'vault', paged: true, audit: 'CertificateList', accessPolicy: 'certificates/list' },
  { operation: 'SetCertificateContacts', plane: 'data', method: 'PUT', path: '/certificates/contacts', handler: 'certificates/set-certificate-contacts', permission: 'certificatecontacts/write', scope: 'vault', audit: 'CertificateContactsSet', accessPolicy: 'certificates/managecontacts' },
  // The DataAction catalogue has no contacts read (reference §6: certificatecas/read|write|delete,
  // certificatecontacts/write). certificatecas/read is granted by Key Vault Certificates Officer
  // (certificatecas/*), Administrator (*) and Reader (*/read), so all three read the contacts, and the
  // two that write them can read what they wrote; a `certificatecontacts/read` would leave the Officer out.
  { operation: 'GetCertificateContacts', plane: 'data', method: 'GET', path: '/certificates/contacts', handler: 'certificates/get-certificate-contacts', permission: 'certificatecas/read', scope: 'vault', audit: 'CertificateContactsGet', accessPolicy: 'certificates/managecontacts' },
  { operation: 'DeleteCertificateContacts', plane: 'data', method: 'DELETE', path: '/certificates/contacts', handler: 'certificates/delete-certificate-contacts', permission: 'certificatecontacts/write', scope: 'vault', audit: 'CertificateContactsDelete', accessPolicy: 'certificates/managecontacts' },
  { operation: 'GetCertificateIssuers', plane: 'data', method: 'GET', path: '/certificates/issuers', handler: 'certificates/get-certificate-issuers', permission: 'certificatecas/read', scope: 'vault', paged: true, audit: 'CertificateIssuersList', accessPolicy: 'certificates/listissuers' },
  {
    operation: 'SetCertificateIssuer',
    plane: 'data',
    method: 'PUT',
    path: '/certificates/issuers/{issuerName}',
    handler: 'certificates/set-certificate-issuer',
    permission: 'certificatecas/write',
    scope: 'vault',
    params: issuerName,
    auditId: 'answer',
    audit: 'CertificateIssuerSet',
    accessPolicy: 'certificates/setissuers',
  },
  {
    operation: 'UpdateCertificateIssuer',
    plane: 'data',
    method: 'PATCH',
    path: '/certificates/issuers/{issuerName}',
    handler: 'certificates/update-certificate-issuer',
    permission: 'certificatecas/write',
    scope: 'vault',
    params: issuerName,
    auditId: 'answer',
    audit: 'CertificateIssuerUpdate',
    accessPolicy: 'certificates/setissuers',
  },
  {
    operation: 'GetCertificateIssuer',
    plane: 'data',
    method: 'GET',
    path: '/certificates/issuers/{issuerName}',
    handler: 'certificates/get-certificate-issuer',
    permission: 'certificatecas/read',
    scope: 'vault',
    params: issuerName,
    auditId: 'answer',
    audit: 'CertificateIssuerGet',
    accessPolicy: 'certificates/getissuers',
  },
  {
    operation: 'DeleteCertificateIssuer',
    plane: 'data',
    method: 'DELETE',
    path: '/certificates/issuers/{issuerName}',
    handler: 'certificates/delete-certificate-issuer',
    permission: 'certificatecas/delete',
    scope: 'vault',
    params: issuerName,
    auditId: 'answer',
    audit: 'CertificateIssuerDelete',
    accessPolicy: 'certificates/deleteissuers',
  },
  { operation: 'RestoreCertificate', plane: 'data', method: 'POST', path: '/certificates/restore', handler: 'certificates/restore-certificate', permission: 'certificates/restore/action', scope: 'vault', auditId: 'answer', audit: 'CertificateRestore', accessPolicy: 'certificates/restore' },
  { operation: 'DeleteCertificate', plane: 'data', method: 'DELETE', path: '/certificates/{name}', handler: 'certificates/delete-certificate', permission: 'certificates/delete', scope: certificate, params: certificateName, auditId: 'answer', audit: 'CertificateDelete', accessPolicy: 'certificates/delete' },
  // Create answers the pending operation (202), whose id is not the certificate's: the record names the certificate.
  { operation: 'CreateCertificate', plane: 'data', method: 'POST', path: '/certificates/{name}/create', handler: 'certificates/create-certificate', permission: 'certificates/create/action', scope: certificate, params: certificateName, auditId: 'path', audit: 'CertificateCreate', accessPolicy: 'certificates/create' },
  { operation: 'ImportCertificate', plane: 'data', method: 'POST', path: '/certificates/{name}/import', handler: 'certificates/import-certificate', permission: 'certificates/import/action', scope: certificate, params: certificateName, auditId: 'answer', audit: 'CertificateImport', accessPolicy: 'certificates/import' },
  {
    operation: 'GetCertificateVersions',
    plane: 'data',
    method: 'GET',
    path: '/certificates/{name}/versions',
    handler: 'certificates/get-certificate-versions',
    permission: 'certificates/read',
    scope: certificate,
    params: certificateName,
    paged: true,
    audit: 'CertificateListVersions',
    accessPolicy: 'certificates/list',
  },
  { operation: 'GetCertificatePolicy', plane: 'data', method: 'GET', path: '/certificates/{name}/policy', handler: 'certificates/get-certificate-policy', permission: 'certificates/read', scope: certificate, params: certificateName, auditId: 'path', audit: 'CertificatePolicyGet', accessPolicy: 'certificates/get' },
  {
    operation: 'UpdateCertificatePolicy',
    plane: 'data',
    method: 'PATCH',
    path: '/certificates/{name}/policy',
    handler: 'certificates/update-certificate-policy',
    permission: 'certificates/update/action',
    scope: certificate,
    params: certificateName,
    auditId: 'path',
    audit: 'CertificatePolicyUpdate',
    accessPolicy: 'certificates/update',
  },
  {
    operation: 'GetCertificateOperation',
    plane: 'data',
    method: 'GET',
    path: '/certificates/{name}/pending',
    handler: 'certificates/get-certificate-operation',
    permission: 'certificates/read',
    scope: certificate,
    params: certificateName,
    auditId: 'path',
    audit: 'CertificatePendingGet',
    accessPolicy: 'certificates/get',
  },
  {
    operation: 'UpdateCertificateOperation',
    plane: 'data',
    method: 'PATCH',
    path: '/certificates/{name}/pending',
    handler: 'certificates/update-certificate-operation',
    permission: 'certificates/update/action',
    scope: certificate,
    params: certificateName,
    auditId: 'path',
    audit: 'CertificatePendingUpdate',
    accessPolicy: 'certificates/update',
  },
  {
    operation: 'DeleteCertificateOperation',
    plane: 'data',
    method: 'DELETE',
    path: '/certificates/{name}/pending',
    handler: 'certificates/delete-certificate-operation',
    permission: 'certificates/delete',
    scope: certificate,
    params: certificateName,
    auditId: 'path',
    audit: 'CertificatePendingDelete',
    accessPolicy: 'certificates/delete',
  },
  {
    operation: 'MergeCertificate',
    plane: 'data',
    method: 'POST',
    path: '/certificates/{name}/pending/merge',
    handler: 'certificates/merge-certificate',
    permission: 'certificates/create/action',
    scope: certificate,
    params: certificateName,
    auditId: 'answer',
    audit: 'CertificatePendingMerge',
    accessPolicy: 'certificates/create',
  },
  { operation: 'BackupCertificate', plane: 'data', method: 'POST', path: '/certificates/{name}/backup', handler: 'certificates/backup-certificate', permission: 'certificates/backup/action', scope: certificate, params: certificateName, auditId: 'path', audit: 'CertificateBackup', accessPolicy: 'certificates/backup' },
  {
    operation: 'GetCertificate',
    plane: 'data',
    method: 'GET',
    path: '/certificates/{name}/{version}',
    handler: 'certificates/get-certificate',
    permission: 'certificates/read',
    scope: certificate,
    params: certificateVersion,
    auditId: 'answer',
    audit: 'CertificateGet',
    optionalTail: true,
    accessPolicy: 'certificates/get',
  },
  {
    operation: 'UpdateCertificate',
    plane: 'data',
    method: 'PATCH',
    path: '/certificates/{name}/{version}',
    handler: 'certificates/update-certificate',
    permission: 'certificates/update/action',
    scope: certificate,
    params: certificateVersion,
    auditId: 'answer',
    audit: 'CertificateUpdate',
    optionalTail: true,
    accessPolicy: 'certificates/update',
  },
  { operation: 'GetDeletedCertificates', plane: 'data', method: 'GET', path: '/deletedcertificates', handler: 'certificates/get-deleted-certificates', permission: 'certificates/read', scope: 'vault', paged: true, audit: 'CertificateListDeleted', accessPolicy: 'certificates/list' },
  { operation: 'GetDeletedCertificate', plane: 'data', method: 'GET', path: '/deletedcertificates/{name}', handler: 'certificates/get-deleted-certificate', permission: 'certificates/read', scope: certificate, params: certificateName, auditId: 'answer', audit: 'CertificateGetDeleted', accessPolicy: 'certificates/get' },
  {
    operation: 'PurgeDeletedCertificate',
    plane: 'data',
    method: 'DELETE',
    path: '/deletedcertificates/{name}',
    handler: 'certificates/purge-deleted-certificate',
    permission: 'certificates/purge/action',
    scope: certificate,
    params: certificateName,
    auditId: 'deleted',
    audit: 'CertificatePurge',
    accessPolicy: 'certificates/purge',
  },
  {
    operation: 'RecoverDeletedCertificate',
    plane: 'data',
    method: 'POST',
    path: '/deletedcertificates/{name}/recover',
    handler: 'certificates/recover-deleted-certificate',
    permission: 'certificates/recover/action',
    scope: certificate,
    params: certificateName,
    auditId: 'answer',
    audit: 'CertificateRecover',
    accessPolicy: 'certificates/recover',
  },

  // The management plane (docs/adr/0013): ARM's shapes for subscriptions, resource groups, vaults,
  // role assignments and role definitions, and the audit records of a vault.
  { operation: 'ListSubscriptions', plane: 'management', provider: 'subscriptions', method: 'GET', path: '/subscriptions', handler: 'management/list-subscriptions', permission: 'Microsoft.Resources/subscriptions/read', scope: 'tenant', audit: 'SubscriptionList' },
  { operation: 'GetSubscription', plane: 'management', provider: 'subscriptions', method: 'GET', path: '/subscriptions/{subscriptionId}', handler: 'management/get-subscription', permission: 'Microsoft.Resources/subscriptions/read', scope: 'subscription', params: management, audit: 'SubscriptionGet' },
  {
    operation: 'ListResourceGroups',
    plane: 'management',
    provider: 'resources',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourcegroups',
    handler: 'management/list-resource-groups',
    permission: 'Microsoft.Resources/subscriptions/resourceGroups/read',
    scope: 'subscription',
    params: management,
    audit: 'ResourceGroupList',
  },
  {
    operation: 'CreateOrUpdateResourceGroup',
    plane: 'management',
    provider: 'resources',
    method: 'PUT',
    path: '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}',
    handler: 'management/create-or-update-resource-group',
    permission: 'Microsoft.Resources/subscriptions/resourceGroups/write',
    scope: 'resourceGroup',
    params: management,
    audit: 'ResourceGroupPut',
  },
  {
    operation: 'GetResourceGroup',
    plane: 'management',
    provider: 'resources',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}',
    handler: 'management/get-resource-group',
    permission: 'Microsoft.Resources/subscriptions/resourceGroups/read',
    scope: 'resourceGroup',
    params: management,
    audit: 'ResourceGroupGet',
  },
  {
    operation: 'DeleteResourceGroup',
    plane: 'management',
    provider: 'resources',
    method: 'DELETE',
    path: '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}',
    handler: 'management/delete-resource-group',
    permission: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
    scope: 'resourceGroup',
    params: management,
    audit: 'ResourceGroupDelete',
  },
  { operation: 'ListResources', plane: 'management', provider: 'resourcesList', method: 'GET', path: '/subscriptions/{subscriptionId}/resources', handler: 'management/list-resources', permission: 'Microsoft.Resources/subscriptions/resources/read', scope: 'subscription', params: management, audit: 'VaultList' },
  {
    operation: 'CheckVaultNameAvailability',
    plane: 'management',
    provider: 'keyVault',
    method: 'POST',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/checkNameAvailability',
    handler: 'management/check-vault-name-availability',
    permission: 'Microsoft.KeyVault/checkNameAvailability/read',
    scope: 'subscription',
    params: management,
    audit: 'VaultCheckNameAvailability',
  },
  {
    operation: 'ListVaultsBySubscription',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/vaults',
    handler: 'management/list-vaults-by-subscription',
    permission: 'Microsoft.KeyVault/vaults/read',
    scope: 'subscription',
    params: management,
    audit: 'VaultList',
  },
  {
    operation: 'ListVaultsByResourceGroup',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults',
    handler: 'management/list-vaults-by-resource-group',
    permission: 'Microsoft.KeyVault/vaults/read',
    scope: 'resourceGroup',
    params: management,
    audit: 'VaultList',
  },
  {
    operation: 'CreateOrUpdateVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'PUT',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}',
    handler: 'management/create-or-update-vault',
    permission: 'Microsoft.KeyVault/vaults/write',
    scope: 'vault',
    params: management,
    audit: 'VaultPut',
  },
  {
    operation: 'GetVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}',
    handler: 'management/get-vault',
    permission: 'Microsoft.KeyVault/vaults/read',
    scope: 'vault',
    params: management,
    audit: 'VaultGet',
  },
  {
    operation: 'UpdateVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'PATCH',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}',
    handler: 'management/update-vault',
    permission: 'Microsoft.KeyVault/vaults/write',
    scope: 'vault',
    params: management,
    audit: 'VaultPatch',
  },
  {
    operation: 'DeleteVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'DELETE',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}',
    handler: 'management/delete-vault',
    permission: 'Microsoft.KeyVault/vaults/delete',
    scope: 'vault',
    params: management,
    audit: 'VaultDelete',
  },
  {
    operation: 'UpdateVaultAccessPolicy',
    plane: 'management',
    provider: 'keyVault',
    method: 'PUT',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/accessPolicies/{operationKind}',
    handler: 'management/update-vault-access-policy',
    permission: 'Microsoft.KeyVault/vaults/accessPolicies/write',
    scope: 'vault',
    params: management,
    audit: 'VaultAccessPolicyUpdate',
  },
  {
    operation: 'ListDeletedVaults',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/deletedVaults',
    handler: 'management/list-deleted-vaults',
    permission: 'Microsoft.KeyVault/deletedVaults/read',
    scope: 'subscription',
    params: management,
    audit: 'VaultListDeleted',
  },
  {
    operation: 'GetDeletedVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}',
    handler: 'management/get-deleted-vault',
    permission: 'Microsoft.KeyVault/deletedVaults/read',
    scope: 'subscription',
    params: management,
    audit: 'VaultGetDeleted',
  },
  {
    operation: 'PurgeDeletedVault',
    plane: 'management',
    provider: 'keyVault',
    method: 'POST',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}/purge',
    handler: 'management/purge-deleted-vault',
    permission: 'Microsoft.KeyVault/locations/deletedVaults/purge/action',
    scope: 'subscription',
    params: management,
    audit: 'VaultPurge',
  },
  {
    operation: 'GetVaultOperationResult',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/operationResults/{operationId}',
    handler: 'management/get-vault-operation-result',
    permission: 'Microsoft.KeyVault/locations/operationResults/read',
    scope: 'subscription',
    params: management,
    audit: 'VaultOperationResultGet',
  },
  {
    operation: 'ListAuditEvents',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/auditEvents',
    handler: 'management/list-audit-events',
    permission: 'Microsoft.KeyVault/vaults/auditEvents/read',
    scope: 'vault',
    params: management,
    audit: 'VaultAuditEventsList',
  },
  // Event Grid event subscriptions on a vault (lib/events/subscriptions.ts): Azure's own actions, at the vault's scope.
  {
    operation: 'CreateOrUpdateEventSubscription',
    plane: 'management',
    provider: 'eventGrid',
    method: 'PUT',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions/{eventSubscriptionName}',
    handler: 'management/create-or-update-event-subscription',
    permission: 'Microsoft.EventGrid/eventSubscriptions/write',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionPut',
  },
  {
    operation: 'GetEventSubscription',
    plane: 'management',
    provider: 'eventGrid',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions/{eventSubscriptionName}',
    handler: 'management/get-event-subscription',
    permission: 'Microsoft.EventGrid/eventSubscriptions/read',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionGet',
  },
  {
    operation: 'UpdateEventSubscription',
    plane: 'management',
    provider: 'eventGrid',
    method: 'PATCH',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions/{eventSubscriptionName}',
    handler: 'management/update-event-subscription',
    permission: 'Microsoft.EventGrid/eventSubscriptions/write',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionPatch',
  },
  {
    operation: 'DeleteEventSubscription',
    plane: 'management',
    provider: 'eventGrid',
    method: 'DELETE',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions/{eventSubscriptionName}',
    handler: 'management/delete-event-subscription',
    permission: 'Microsoft.EventGrid/eventSubscriptions/delete',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionDelete',
  },
  {
    operation: 'ListEventSubscriptionsByResource',
    plane: 'management',
    provider: 'eventGrid',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions',
    handler: 'management/list-event-subscriptions-by-resource',
    permission: 'Microsoft.EventGrid/eventSubscriptions/read',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionList',
  },
  {
    operation: 'GetEventSubscriptionFullUrl',
    plane: 'management',
    provider: 'eventGrid',
    method: 'POST',
    path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.EventGrid/eventSubscriptions/{eventSubscriptionName}/getFullUrl',
    handler: 'management/get-event-subscription-full-url',
    permission: 'Microsoft.EventGrid/eventSubscriptions/getFullUrl/action',
    scope: 'vault',
    params: management,
    audit: 'EventSubscriptionGetFullUrl',
  },
  // `{scope*}`: a subscription, resource group, vault, or one vault object (lib/http/scope-path.ts).
  {
    operation: 'CreateRoleAssignment',
    plane: 'management',
    provider: 'authorization',
    method: 'PUT',
    path: '/{scope*}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
    handler: 'management/create-role-assignment',
    permission: 'Microsoft.Authorization/roleAssignments/write',
    scope: 'path',
    params: management,
    audit: 'RoleAssignmentPut',
  },
  {
    operation: 'GetRoleAssignment',
    plane: 'management',
    provider: 'authorization',
    method: 'GET',
    path: '/{scope*}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
    handler: 'management/get-role-assignment',
    permission: 'Microsoft.Authorization/roleAssignments/read',
    scope: 'path',
    params: management,
    audit: 'RoleAssignmentGet',
  },
  {
    operation: 'DeleteRoleAssignment',
    plane: 'management',
    provider: 'authorization',
    method: 'DELETE',
    path: '/{scope*}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
    handler: 'management/delete-role-assignment',
    permission: 'Microsoft.Authorization/roleAssignments/delete',
    scope: 'path',
    params: management,
    audit: 'RoleAssignmentDelete',
  },
  {
    operation: 'ListRoleAssignments',
    plane: 'management',
    provider: 'authorization',
    method: 'GET',
    path: '/{scope*}/providers/Microsoft.Authorization/roleAssignments',
    handler: 'management/list-role-assignments',
    permission: 'Microsoft.Authorization/roleAssignments/read',
    scope: 'path',
    params: management,
    audit: 'RoleAssignmentList',
  },
  {
    operation: 'CreateOrUpdateRoleDefinition',
    plane: 'management',
    provider: 'authorization',
    method: 'PUT',
    path: '/{scope*}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}',
    handler: 'management/create-or-update-role-definition',
    permission: 'Microsoft.Authorization/roleDefinitions/write',
    scope: 'path',
    params: management,
    audit: 'RoleDefinitionPut',
  },
  {
    operation: 'GetRoleDefinition',
    plane: 'management',
    provider: 'authorization',
    method: 'GET',
    path: '/{scope*}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}',
    handler: 'management/get-role-definition',
    permission: 'Microsoft.Authorization/roleDefinitions/read',
    scope: 'path',
    params: management,
    audit: 'RoleDefinitionGet',
  },
  {
    operation: 'DeleteRoleDefinition',
    plane: 'management',
    provider: 'authorization',
    method: 'DELETE',
    path: '/{scope*}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}',
    handler: 'management/delete-role-definition',
    permission: 'Microsoft.Authorization/roleDefinitions/delete',
    scope: 'path',
    params: management,
    audit: 'RoleDefinitionDelete',
  },
  {
    operation: 'ListRoleDefinitions',
    plane: 'management',
    provider: 'authorization',
    method: 'GET',
    path: '/{scope*}/providers/Microsoft.Authorization/roleDefinitions',
    handler: 'management/list-role-definitions',
    permission: 'Microsoft.Authorization/roleDefinitions/read',
    scope: 'path',
    params: management,
    audit: 'RoleDefinitionList',
  },
] as const satisfies readonly Route[];

/**
 * Managed HSM pools' management operations (lib/hsm/pool-manager.ts, docs/adr/0020): ARM's
 * managedHSMs, checked at the pool's resource id (Key Vault Contributor's notActions exclude
 * `Microsoft.KeyVault/managedHsms/*`). Rows of the one table like any other, kept apart because they
 * deploy with the pools' own stack, not with `routes`' (the main stack's CloudFormation resource
 * budget: ADR 0020): the local gateway serves them with the rest (`localRoutes`), the main stack's
 * package and its `$default` route know `routes` only.
 */
export const managedHsmPoolRoutes = [
  {
    operation: 'CheckManagedHsmNameAvailability',
    plane: 'management',
    provider: 'keyVault',
    method: 'POST',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/checkMhsmNameAvailability',
    handler: 'management/check-managed-hsm-name-availability',
    permission: 'Microsoft.KeyVault/checkMhsmNameAvailability/read',
    scope: 'subscription',
    params: management,
    audit: 'ManagedHsmCheckNameAvailability',
  },
  {
    operation: 'ListManagedHsmsBySubscription',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/managedHSMs',
    handler: 'management/list-managed-hsms-by-subscription',
    permission: 'Microsoft.KeyVault/managedHSMs/read',
    scope: 'subscription',
    params: management,
    audit: 'ManagedHsmList',
  },
  {
    operation: 'ListManagedHsmsByResourceGroup',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: MANAGED_HSMS,
    handler: 'management/list-managed-hsms-by-resource-group',
    permission: 'Microsoft.KeyVault/managedHSMs/read',
    scope: 'resourceGroup',
    params: management,
    audit: 'ManagedHsmList',
  },
  {
    operation: 'CreateOrUpdateManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'PUT',
    path: `${MANAGED_HSMS}/{name}`,
    handler: 'management/create-or-update-managed-hsm',
    permission: 'Microsoft.KeyVault/managedHSMs/write',
    scope: 'path',
    params: managedHsm,
    audit: 'ManagedHsmPut',
  },
  {
    operation: 'GetManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: `${MANAGED_HSMS}/{name}`,
    handler: 'management/get-managed-hsm',
    permission: 'Microsoft.KeyVault/managedHSMs/read',
    scope: 'path',
    params: managedHsm,
    audit: 'ManagedHsmGet',
  },
  {
    operation: 'UpdateManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'PATCH',
    path: `${MANAGED_HSMS}/{name}`,
    handler: 'management/update-managed-hsm',
    permission: 'Microsoft.KeyVault/managedHSMs/write',
    scope: 'path',
    params: managedHsm,
    audit: 'ManagedHsmPatch',
  },
  {
    operation: 'DeleteManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'DELETE',
    path: `${MANAGED_HSMS}/{name}`,
    handler: 'management/delete-managed-hsm',
    permission: 'Microsoft.KeyVault/managedHSMs/delete',
    scope: 'path',
    params: managedHsm,
    audit: 'ManagedHsmDelete',
  },
  {
    operation: 'ListDeletedManagedHsms',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/deletedManagedHSMs',
    handler: 'management/list-deleted-managed-hsms',
    permission: 'Microsoft.KeyVault/deletedManagedHsms/read',
    scope: 'subscription',
    params: management,
    audit: 'ManagedHsmListDeleted',
  },
  {
    operation: 'GetDeletedManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'GET',
    path: DELETED_MANAGED_HSM,
    handler: 'management/get-deleted-managed-hsm',
    permission: 'Microsoft.KeyVault/locations/deletedManagedHsms/read',
    scope: 'subscription',
    params: managedHsm,
    audit: 'ManagedHsmGetDeleted',
  },
  // Polled through GetVaultOperationResult, as a vault's purge is.
  {
    operation: 'PurgeDeletedManagedHsm',
    plane: 'management',
    provider: 'keyVault',
    method: 'POST',
    path: `${DELETED_MANAGED_HSM}/purge`,
    handler: 'management/purge-deleted-managed-hsm',
    permission: 'Microsoft.KeyVault/locations/deletedManagedHsms/purge/action',
    scope: 'subscription',
    params: managedHsm,
    audit: 'ManagedHsmPurge',
  },
] as const satisfies readonly Route[];

/** A pool's RBAC path: `{hsmScope*}` is `/`, `/keys` or `/keys/{key name}`; the domain reads the scope and the name strictly (docs/adr/0021). */
const hsmRbac = z.object({
  scope: z.string(),
  name: z.optional(z.string().check(z.maxLength(128))),
});
/** A pool setting's `{name}`; which names exist is the settings domain's. */
const hsmSettingName = z.object({ name: z.string().check(z.minLength(1), z.maxLength(128)) });
/** A backup or restore job's id in its status path: Coffer's are 32 hex characters, anything else simply finds no job. */
const hsmJobId = z.object({ jobId: z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9-]+$/)) });
const HSM_ROLE_ASSIGNMENTS = '/{hsmScope*}/providers/Microsoft.Authorization/roleAssignments';
const HSM_ROLE_DEFINITIONS = '/{hsmScope*}/providers/Microsoft.Authorization/roleDefinitions';

/**
 * A managed HSM pool's own data plane (plane `managedHsm`, docs/adr/0022), on the pool's host: its
 * local RBAC and its settings. `permission` is the Managed HSM DataAction without
 * `Microsoft.KeyVault/managedHsm/`; `scope: 'vault'` checks it at the pool (`/`) before the
 * operation, `scope: 'path'` leaves the decision to the domain, at the scope the path names, after
 * the path's own syntax is checked (ADR 0021). Kept apart from `routes` as the pools' management rows
 * are: they deploy with the pools' stack.
 */
export const managedHsmDataRoutes = [
  { operation: 'CreateHsmRoleAssignment', plane: 'managedHsm', method: 'PUT', path: `${HSM_ROLE_ASSIGNMENTS}/{name}`, handler: 'hsm/create-hsm-role-assignment', permission: 'roleAssignments/write/action', scope: 'path', params: hsmRbac, audit: 'RoleAssignmentCreate' },
  { operation: 'GetHsmRoleAssignment', plane: 'managedHsm', method: 'GET', path: `${HSM_ROLE_ASSIGNMENTS}/{name}`, handler: 'hsm/get-hsm-role-assignment', permission: 'roleAssignments/read/action', scope: 'path', params: hsmRbac, audit: 'RoleAssignmentGet' },
  { operation: 'DeleteHsmRoleAssignment', plane: 'managedHsm', method: 'DELETE', path: `${HSM_ROLE_ASSIGNMENTS}/{name}`, handler: 'hsm/delete-hsm-role-assignment', permission: 'roleAssignments/delete/action', scope: 'path', params: hsmRbac, audit: 'RoleAssignmentDelete' },
  { operation: 'ListHsmRoleAssignments', plane: 'managedHsm', method: 'GET', path: HSM_ROLE_ASSIGNMENTS, handler: 'hsm/list-hsm-role-assignments', permission: 'roleAssignments/read/action', scope: 'path', params: hsmRbac, audit: 'RoleAssignmentList' },
  { operation: 'SetHsmRoleDefinition', plane: 'managedHsm', method: 'PUT', path: `${HSM_ROLE_DEFINITIONS}/{name}`, handler: 'hsm/set-hsm-role-definition', permission: 'roleDefinitions/write/action', scope: 'path', params: hsmRbac, audit: 'RoleDefinitionCreate' },
  { operation: 'GetHsmRoleDefinition', plane: 'managedHsm', method: 'GET', path: `${HSM_ROLE_DEFINITIONS}/{name}`, handler: 'hsm/get-hsm-role-definition', permission: 'roleDefinitions/read/action', scope: 'path', params: hsmRbac, audit: 'RoleDefinitionGet' },
  { operation: 'DeleteHsmRoleDefinition', plane: 'managedHsm', method: 'DELETE', path: `${HSM_ROLE_DEFINITIONS}/{name}`, handler: 'hsm/delete-hsm-role-definition', permission: 'roleDefinitions/delete/action', scope: 'path', params: hsmRbac, audit: 'RoleDefinitionDelete' },
  { operation: 'ListHsmRoleDefinitions', plane: 'managedHsm', method: 'GET', path: HSM_ROLE_DEFINITIONS, handler: 'hsm/list-hsm-role-definitions', permission: 'roleDefinitions/read/action', scope: 'path', params: hsmRbac, audit: 'RoleDefinitionList' },
  // Settings (reference §1.4), at the pool: the settings DataActions the Administrator holds. First in
  // 7.4-preview.1, which Debian's KeyVaultSettingsClient sends (answered as 7.4).
  { operation: 'GetHsmSettings', plane: 'managedHsm', method: 'GET', path: '/settings', handler: 'hsm/get-hsm-settings', permission: 'settings/read/action', scope: 'vault', since: '7.4', audit: 'SettingsList' },
  { operation: 'GetHsmSetting', plane: 'managedHsm', method: 'GET', path: '/settings/{name}', handler: 'hsm/get-hsm-setting', permission: 'settings/read/action', scope: 'vault', params: hsmSettingName, since: '7.4', audit: 'SettingGet' },
  { operation: 'UpdateHsmSetting', plane: 'managedHsm', method: 'PATCH', path: '/settings/{name}', handler: 'hsm/update-hsm-setting', permission: 'settings/write/action', scope: 'vault', params: hsmSettingName, since: '7.4', audit: 'SettingUpdate' },
  // The security domain (reference §1.4, securitydomain.json), at the pool: its DataActions the
  // Administrator holds. Download and upload finish within their request (202, final status).
  { operation: 'DownloadHsmSecurityDomain', plane: 'managedHsm', method: 'POST', path: '/securitydomain/download', handler: 'hsm/download-hsm-security-domain', permission: 'securitydomain/download/action', scope: 'vault', audit: 'SecurityDomainDownload' },
  { operation: 'GetHsmSecurityDomainDownloadStatus', plane: 'managedHsm', method: 'GET', path: '/securitydomain/download/pending', handler: 'hsm/get-hsm-security-domain-download-status', permission: 'securitydomain/download/read', scope: 'vault', audit: 'SecurityDomainDownloadStatus' },
  { operation: 'GetHsmSecurityDomainTransferKey', plane: 'managedHsm', method: 'GET', path: '/securitydomain/upload', handler: 'hsm/get-hsm-security-domain-transfer-key', permission: 'securitydomain/transferkey/read', scope: 'vault', audit: 'SecurityDomainTransferKey' },
  { operation: 'UploadHsmSecurityDomain', plane: 'managedHsm', method: 'POST', path: '/securitydomain/upload', handler: 'hsm/upload-hsm-security-domain', permission: 'securitydomain/upload/action', scope: 'vault', audit: 'SecurityDomainUpload' },
  { operation: 'GetHsmSecurityDomainUploadStatus', plane: 'managedHsm', method: 'GET', path: '/securitydomain/upload/pending', handler: 'hsm/get-hsm-security-domain-upload-status', permission: 'securitydomain/upload/read', scope: 'vault', audit: 'SecurityDomainUploadStatus' },
  // Full backup and restore (reference §1.4, backuprestore.json), at the pool: the Backup User's and
  // the Restore role's DataActions. Each job runs within its request (docs/adr/0025): 202, final status.
  { operation: 'HsmFullBackup', plane: 'managedHsm', method: 'POST', path: '/backup', handler: 'hsm/begin-hsm-full-backup', permission: 'backup/start/action', scope: 'vault', since: '7.2', audit: 'Backup' },
  { operation: 'HsmFullBackupStatus', plane: 'managedHsm', method: 'GET', path: '/backup/{jobId}/pending', handler: 'hsm/get-hsm-full-backup-status', permission: 'backup/status/action', scope: 'vault', params: hsmJobId, since: '7.2', audit: 'BackupStatus' },
  { operation: 'HsmPreFullBackup', plane: 'managedHsm', method: 'POST', path: '/prebackup', handler: 'hsm/begin-hsm-pre-full-backup', permission: 'backup/start/action', scope: 'vault', since: '7.6', audit: 'PreBackup' },
  { operation: 'HsmFullRestore', plane: 'managedHsm', method: 'PUT', path: '/restore', handler: 'hsm/begin-hsm-full-restore', permission: 'restore/start/action', scope: 'vault', since: '7.2', audit: 'Restore' },
  { operation: 'HsmRestoreStatus', plane: 'managedHsm', method: 'GET', path: '/restore/{jobId}/pending', handler: 'hsm/get-hsm-restore-status', permission: 'restore/status/action', scope: 'vault', params: hsmJobId, since: '7.2', audit: 'RestoreStatus' },
  { operation: 'HsmPreFullRestore', plane: 'managedHsm', method: 'PUT', path: '/prerestore', handler: 'hsm/begin-hsm-pre-full-restore', permission: 'restore/start/action', scope: 'vault', since: '7.6', audit: 'PreRestore' },
  { operation: 'HsmSelectiveKeyRestore', plane: 'managedHsm', method: 'PUT', path: '/keys/{name}/restore', handler: 'hsm/begin-hsm-selective-key-restore', permission: 'restore/start/action', scope: 'vault', params: keyName, since: '7.2', audit: 'SelectiveKeyRestore' },
  // Keys (reference §1.2, §3), the vaults' own paths on the pool's host (docs/adr/0024): one key's
  // operations at the scope `/keys/{name}`, creating and listing at `/keys`, the rng at `/`. Lists
  // answer in one page; every key operation refuses until the pool is active.
  { operation: 'CreateHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/create', handler: 'hsm/create-hsm-key', permission: 'keys/create', scope: 'vault', params: keyName, auditId: 'answer', audit: 'KeyCreate' },
  { operation: 'ImportHsmKey', plane: 'managedHsm', method: 'PUT', path: '/keys/{name}', handler: 'hsm/import-hsm-key', permission: 'keys/import/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyImport' },
  { operation: 'GetHsmKeys', plane: 'managedHsm', method: 'GET', path: '/keys', handler: 'hsm/get-hsm-keys', permission: 'keys/read/action', scope: 'vault', audit: 'KeyList' },
  { operation: 'GetHsmKeyVersions', plane: 'managedHsm', method: 'GET', path: '/keys/{name}/versions', handler: 'hsm/get-hsm-key-versions', permission: 'keys/read/action', scope: key, params: keyName, audit: 'KeyListVersions' },
  { operation: 'GetHsmKey', plane: 'managedHsm', method: 'GET', path: '/keys/{name}/{version}', handler: 'hsm/get-hsm-key', permission: 'keys/read/action', scope: key, params: keyVersion, auditId: 'answer', audit: 'KeyGet', optionalTail: true },
  { operation: 'UpdateHsmKey', plane: 'managedHsm', method: 'PATCH', path: '/keys/{name}/{version}', handler: 'hsm/update-hsm-key', permission: 'keys/write/action', scope: key, params: keyVersion, auditId: 'answer', audit: 'KeyUpdate', optionalTail: true },
  { operation: 'DeleteHsmKey', plane: 'managedHsm', method: 'DELETE', path: '/keys/{name}', handler: 'hsm/delete-hsm-key', permission: 'keys/delete', scope: key, params: keyName, auditId: 'answer', audit: 'KeyDelete' },
  { operation: 'EncryptWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/encrypt', handler: 'hsm/encrypt-with-hsm-key', permission: 'keys/encrypt/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyEncrypt' },
  { operation: 'DecryptWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/decrypt', handler: 'hsm/decrypt-with-hsm-key', permission: 'keys/decrypt/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyDecrypt' },
  { operation: 'WrapWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/wrapkey', handler: 'hsm/wrap-with-hsm-key', permission: 'keys/wrap/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyWrap' },
  { operation: 'UnwrapWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/unwrapkey', handler: 'hsm/unwrap-with-hsm-key', permission: 'keys/unwrap/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyUnwrap' },
  { operation: 'SignWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/sign', handler: 'hsm/sign-with-hsm-key', permission: 'keys/sign/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeySign' },
  { operation: 'VerifyWithHsmKey', plane: 'managedHsm', method: 'POST', path: '/keys/{name}/{version}/verify', handler: 'hsm/verify-with-hsm-key', permission: 'keys/verify/action', scope: key, params: keyVersion, auditId: 'path', audit: 'KeyVerify' },
  { operation: 'GetDeletedHsmKeys', plane: 'managedHsm', method: 'GET', path: '/deletedkeys', handler: 'hsm/get-deleted-hsm-keys', permission: 'keys/deletedKeys/read/action', scope: 'vault', audit: 'KeyListDeleted' },
  { operation: 'GetDeletedHsmKey', plane: 'managedHsm', method: 'GET', path: '/deletedkeys/{name}', handler: 'hsm/get-deleted-hsm-key', permission: 'keys/deletedKeys/read/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyGetDeleted' },
  { operation: 'PurgeDeletedHsmKey', plane: 'managedHsm', method: 'DELETE', path: '/deletedkeys/{name}', handler: 'hsm/purge-deleted-hsm-key', permission: 'keys/deletedKeys/delete', scope: key, params: keyName, auditId: 'deleted', audit: 'KeyPurge' },
  { operation: 'RecoverDeletedHsmKey', plane: 'managedHsm', method: 'POST', path: '/deletedkeys/{name}/recover', handler: 'hsm/recover-deleted-hsm-key', permission: 'keys/deletedKeys/recover/action', scope: key, params: keyName, auditId: 'answer', audit: 'KeyRecover' },
  { operation: 'GetRandomBytesFromHsm', plane: 'managedHsm', method: 'POST', path: '/rng', handler: 'hsm/get-random-bytes-from-hsm', permission: 'rng/action', scope: 'vault', since: '7.3', audit: 'RandomBytesGet' },
] as const satisfies readonly Route[];

/**
 * Every row the local gateway serves: the main stack's and the pools' stack's. Marked pure, so a
 * bundle that reads one table only (a pool's data-plane functions, lib/runtime/hsm.ts) leaves the
 * others out: a spread is not side-effect free to esbuild, and this line alone kept the main table,
 * some 28 KiB minified, in every function.
 */
export const localRoutes: readonly Route[] = /* @__PURE__ */ (() => [...routes, ...managedHsmPoolRoutes, ...managedHsmDataRoutes])();

type AnyRoute = (typeof routes)[number] | (typeof managedHsmPoolRoutes)[number] | (typeof managedHsmDataRoutes)[number];

export type OperationName = AnyRoute['operation'];

/** One row of the table with its literal types: the handler's input is typed from it. */
export type RouteOf<Op extends OperationName> = Extract<AnyRoute, { operation: Op }>;

/** The operations the main stack deploys (infra/permissions.ts grants each of them). */
export type MainStackOperationName = (typeof routes)[number]['operation'];

export type ManagedHsmPoolOperationName = (typeof managedHsmPoolRoutes)[number]['operation'];

/** The operations of a pool's own host (the pools' stack deploys them with the management rows). */
export type ManagedHsmDataOperationName = (typeof managedHsmDataRoutes)[number]['operation'];

export function routeFor(operation: OperationName): Route {
  const route = localRoutes.find((r) => r.operation === operation);
  if (!route) throw new Error(`no route for operation ${operation}`);
  return route;
}

/** API Gateway's route key, e.g. `PUT /secrets/{name}`. */
export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

export interface RouteMatch {
  route: Route;
  pathParameters: Record<string, string>;
}

/**
 * Matches a request the way API Gateway would (literal segments beat parameters), plus Key Vault's
 * case-insensitive literals and optional trailing version segment. Returns undefined when no route
 * matches; `methodAllowed` tells a 405 from a 404.
 */
export function matchRoute(
  method: string,
  rawPath: string,
  /** Which routes take part: a listener of the local gateway serves some planes only (dev/gateway.ts). */
  serves: (route: Route) => boolean = () => true,
  /** The rows to match: the main stack's (what its `$default` route forwards to), or the local gateway's `localRoutes`. */
  table: readonly Route[] = routes,
): { match?: RouteMatch; pathExists: boolean } {
  const segments = splitPath(rawPath);
  const upperMethod = method.toUpperCase();
  let best: { match: RouteMatch; literalCount: number } | undefined;
  let pathExists = false;
  for (const route of candidatesFor(table, segments)) {
    if (!serves(route)) continue;
    const params = matchSegments(route, segments);
    if (!params) continue;
    pathExists = true;
    if (route.method !== upperMethod) continue;
    const { literalCount } = shapeOf(route);
    if (!best || literalCount > best.literalCount) best = { match: { route, pathParameters: params }, literalCount };
  }
  return { match: best?.match, pathExists };
}

/**
 * A table's rows by their first path segment, so that a request is tried only against the rows that
 * can match it: the local gateway matched every request against all 149 of its rows, twice, a fifth
 * of what it spent around the handler per GetSecret. A row whose first segment is a literal matches only a request whose first
 * segment is that literal in any case (`matchSegments` keeps the first segment of a non-empty request
 * as it is); every other row (a parameter, a scope, a version that may be absent in front) is tried
 * for every request. The lists keep the table's order, which decides between equally specific rows.
 */
interface RouteIndex {
  /** The table's length when indexed: a table changed since is indexed again. */
  readonly size: number;
  /** Per lowercased first segment: its rows and the rows tried for every request, in table order. */
  readonly byFirstSegment: ReadonlyMap<string, readonly Route[]>;
  /** The rows tried for every request, in table order. */
  readonly always: readonly Route[];
}

const indexes = new WeakMap<readonly Route[], RouteIndex>();

function candidatesFor(table: readonly Route[], segments: readonly string[]): readonly Route[] {
  // No segment at all (an empty path): nothing to narrow by.
  if (segments.length === 0) return table;
  let index = indexes.get(table);
  if (!index || index.size !== table.length) {
    index = indexRoutes(table);
    indexes.set(table, index);
  }
  return index.byFirstSegment.get(segments[0]!.toLowerCase()) ?? index.always;
}

function indexRoutes(table: readonly Route[]): RouteIndex {
  const firstOf = (route: Route): string | undefined => {
    const routeSegments = shapeOf(route).segments;
    const first = routeSegments[0];
    if (first === undefined || first.startsWith('{')) return undefined;
    // An absent version is put back where `{version}` is: in front, it would shift the first segment.
    if (route.optionalVersion && routeSegments.indexOf('{version}') <= 0) return undefined;
    return first.toLowerCase();
  };
  const firsts = new Set<string>();
  for (const route of table) {
    const first = firstOf(route);
    if (first !== undefined) firsts.add(first);
  }
  const byFirstSegment = new Map<string, Route[]>([...firsts].map((first) => [first, []]));
  const always: Route[] = [];
  for (const route of table) {
    const first = firstOf(route);
    if (first !== undefined) byFirstSegment.get(first)!.push(route);
    else {
      always.push(route);
      for (const rows of byFirstSegment.values()) rows.push(route);
    }
  }
  return { size: table.length, byFirstSegment, always };
}

function splitPath(path: string): string[] {
  const withoutQuery = path.split('?')[0] ?? '';
  return withoutQuery.split('/').slice(1);
}

interface RouteShape {
  readonly segments: readonly string[];
  readonly literalCount: number;
}

// Every request is matched against the whole table (the local gateway, the handlers' test events):
// each route's path is split once, not once per route per request.
const shapes = new WeakMap<Route, RouteShape>();

function shapeOf(route: Route): RouteShape {
  let shape = shapes.get(route);
  if (!shape) {
    const segments = splitPath(route.path);
    shape = { segments, literalCount: segments.filter((s) => !s.startsWith('{')).length };
    shapes.set(route, shape);
  }
  return shape;
}

function matchSegments(route: Route, requestSegments: string[]): Record<string, string> | undefined {
  const routeSegments = shapeOf(route).segments;
  if (routeSegments[0] === SCOPE_SEGMENT) return matchScoped(route, routeSegments, requestSegments, SCOPE_SHAPES);
  if (routeSegments[0] === HSM_SCOPE_SEGMENT) return matchScoped(route, routeSegments, requestSegments, HSM_SCOPE_SHAPES);
  let segments = requestSegments;
  // `/secrets/x/` has a trailing empty segment: for optional-tail routes it is the empty version,
  // otherwise a trailing slash is tolerated like Azure does.
  if (segments.length > 1 && segments[segments.length - 1] === '' && !route.optionalTail) segments = segments.slice(0, -1);
  if (route.optionalTail && segments.length === routeSegments.length - 1) segments = [...segments, ''];
  if (route.optionalVersion && segments.length === routeSegments.length - 1) {
    const at = routeSegments.indexOf('{version}');
    segments = [...segments.slice(0, at), '', ...segments.slice(at)];
  }
  return matchFixed(route, routeSegments, segments);
}

function matchFixed(route: Route, routeSegments: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== routeSegments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < routeSegments.length; i++) {
    const expected = routeSegments[i]!;
    const actual = segments[i]!;
    if (expected.startsWith('{')) {
      let value: string;
      try {
        value = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      // An empty version means the latest: SDKs send `/keys/k//sign` for a key id without version.
      const isTail = route.optionalTail && i === routeSegments.length - 1;
      if (value === '' && !isTail && expected !== '{version}') return undefined;
      params[expected.slice(1, -1)] = value;
    } else if (expected.toLowerCase() !== actual.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

/**
 * A `{scope*}` route: the leading segments are an ARM scope of one of the shapes role assignments
 * are made at (`SCOPE_SHAPES`), the rest matches as usual. The scope's own parameters
 * (subscriptionId, ...) are set too, as API Gateway sets them for the expanded paths (`scopedPaths`).
 */
function matchScoped(route: Route, routeSegments: readonly string[], requestSegments: string[], shapes: readonly string[]): Record<string, string> | undefined {
  const segments = requestSegments.length > 1 && requestSegments.at(-1) === '' ? requestSegments.slice(0, -1) : requestSegments;
  const rest = routeSegments.slice(1);
  for (const shape of shapes) {
    const shapeSegments = shape === '' ? [] : shape.split('/').slice(1);
    if (segments.length !== shapeSegments.length + rest.length) continue;
    const params = matchFixed(route, [...shapeSegments, ...rest], segments);
    if (params) return { ...params, scope: `/${segments.slice(0, shapeSegments.length).join('/')}` };
  }
  return undefined;
}

/** The path segment standing for an ARM scope in role-assignment and role-definition routes. */
export const SCOPE_SEGMENT = '{scope*}';

/** The ARM scopes Coffer's role assignments and role definitions live at: subscription, resource group, vault, one vault object. */
const SCOPE_SHAPES = [
  '/subscriptions/{subscriptionId}',
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}',
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}',
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/{objectCollection}/{objectName}',
] as const;

/** The path segment standing for a managed HSM pool's RBAC scope: `/`, `/keys` or `/keys/{key name}` (reference §1.4). */
const HSM_SCOPE_SEGMENT = '{hsmScope*}';

/** A pool's scopes as paths: the root is no segment at all (`/providers/...`). */
const HSM_SCOPE_SHAPES = ['', '/keys', '/keys/{keyName}'] as const;

/** A route's paths with `{scope*}` (or `{hsmScope*}`) written out as each scope shape: what API Gateway routes (it has no inner greedy variables). */
export function scopedPaths(route: Route): string[] {
  if (route.path.startsWith(`/${HSM_SCOPE_SEGMENT}/`)) return HSM_SCOPE_SHAPES.map((shape) => shape + route.path.slice(HSM_SCOPE_SEGMENT.length + 1));
  if (!route.path.startsWith(`/${SCOPE_SEGMENT}/`)) return [route.path];
  return SCOPE_SHAPES.map((shape) => shape + route.path.slice(SCOPE_SEGMENT.length + 1));
}
