import {
  type MainStackOperationName,
  type ManagedHsmDataOperationName,
  type ManagedHsmPoolOperationName,
  type OperationName,
  localRoutes,
  type Route,
  SCOPE_SEGMENT,
} from '../lib/http/routes.ts';

/**
 * The AWS permissions of each operation's Lambda function, in one place (so longer than 400 lines: one
 * entry per operation, each with why it needs what it has). The IAM policies in the
 * template are generated from this map (infra/serverless-config.ts), a test checks every route has
 * an entry, and others (test/deploy/iam-coverage*.test.ts) run the operations against the local
 * stack and check every DynamoDB and KMS call they make is covered here, and that nothing is granted
 * that none of them calls: the local stack has no IAM, so a missing grant would otherwise first show
 * as AccessDenied in AWS. A grant only a path that test cannot drive needs says so where it is given
 * (and is listed in the test's UNREACHED).
 *
 * What every operation of a plane does is in `baseline`, not repeated per operation: a data-plane
 * pipeline reads the vault record (GetItem on the objects table) and, for an RBAC vault, the caller's
 * role assignments in its subscription (Query; docs/adr/0013), and writes the audit record of a vault
 * with strict audit (PutItem on the audit table; the other records go to the function's log
 * stream, its own log group, and the delivery function writes them: `eventPermissions`). The
 * management pipeline reads the caller's role assignments (Query), and where the path names a vault,
 * that vault's record and, for a strict vault, its audit record (`namesVault`). Everything else
 * follows the operation's code path through lib/aws and lib/crypto:
 *   - a TransactWriteItems needs the item actions inside it (PutItem, UpdateItem, DeleteItem) and
 *     ConditionCheckItem for its ConditionChecks; there is no TransactWriteItems IAM action;
 *   - reading an object's latest version is one GetItem of its head (which carries a copy of it), a
 *     named version one BatchGetItem of head and version (docs/adr/0008-one-request-reads.md);
 *   - `vaultKey` is the vault's own KMS key: GenerateDataKey to seal, Decrypt to open a sealed field or
 *     the vault's paging key (list operations sign their $skiptoken with it);
 *   - `backupKey` is the deployment's backup key (backup seals with it, restore opens with it);
 *   - `hsmKeys` are the asymmetric KMS keys behind HSM key versions (one per version, tagged
 *     `coffer:key`), `createsHsmKeys` the origins of the ones an operation creates, and `randomBytes`
 *     kms:GenerateRandom.
 *
 * The plane decides where an operation's writes may land in the objects table. Control-plane records
 * (`CONTROL_PLANE_PARTITIONS`: vault records, resource groups, role assignments and definitions,
 * endpoint claims) are written by management operations only: a data-plane role is denied every
 * write to them, so a compromised data-plane function cannot grant itself a role, and a management
 * role may write nothing else, except the vault objects a purge removes (`purgesVaultObjects`).
 * Management operations also create vault keys (`createsVaultKeys`: kms:CreateKey tagged for this
 * deployment, and the new key's paging data key) and schedule their deletion (`vaultKeyLifecycle`),
 * and the audit query reads the audit table (`readsAudit`).
 */
export type ObjectsAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem' | 'BatchWriteItem';
/** The objects-table actions that only read; everything else is a write the control-plane deny covers. */
export const OBJECTS_READ_ACTIONS: readonly ObjectsAction[] = ['GetItem', 'BatchGetItem', 'Query'];
export type DataKeyAction = 'GenerateDataKey' | 'Decrypt';
/** What the management plane does to a vault's own KMS key after creating it: a purge schedules its deletion. */
export type VaultKeyAction = 'ScheduleKeyDeletion';
export type HsmKeyAction =
  | 'GetPublicKey'
  | 'Sign'
  | 'Decrypt'
  | 'EnableKey'
  | 'DisableKey'
  | 'ScheduleKeyDeletion'
  | 'CancelKeyDeletion'
  | 'GetParametersForImport'
  | 'ImportKeyMaterial';
/** KMS key origins: material generated in KMS, or imported (bring your own key). */
export type KeyOrigin = 'AWS_KMS' | 'EXTERNAL';

export interface OperationPermissions {
  /** DynamoDB actions on the objects table (vault objects and their versions). */
  readonly objects: readonly ObjectsAction[];
  readonly vaultKey: readonly DataKeyAction[];
  readonly backupKey: readonly DataKeyAction[];
  readonly hsmKeys?: readonly HsmKeyAction[];
  readonly createsHsmKeys?: readonly KeyOrigin[];
  readonly randomBytes?: boolean;
  /** Creates vault keys (CreateKey and TagResource, tagged for this deployment) and their paging data keys. */
  readonly createsVaultKeys?: boolean;
  readonly vaultKeyLifecycle?: readonly VaultKeyAction[];
  /** Writes to the partitions of a vault's objects too (purging a vault), not only to control-plane records. */
  readonly purgesVaultObjects?: boolean;
  /** Queries the audit table (the audit API). */
  readonly readsAudit?: boolean;
  /**
   * Realizes event subscriptions on the deployment's bus (rules `es-*`, connections and API
   * destinations `<stack>-es-*`, their connection secrets, and passing the delivery role), or only
   * removes them.
   */
  readonly eventSubscriptions?: EventSubscriptionGrant;
  /**
   * Objects under the managed HSM pools' prefix of the pools' backup bucket (infra/pool-stack.ts,
   * deployed with `--cloudhsm`): a full backup writes them, a restore reads them. Only the pools'
   * stack grants it.
   */
  readonly poolBackups?: readonly PoolBackupAction[];
  /**
   * A pool's data plane (plane `managedHsm`): which of its pools' records its writes reach
   * (`POOL_PARTITIONS`); its reads, like its writes, reach pools' records only.
   */
  readonly poolWrites?: readonly PoolRecords[];
  /**
   * The deployment's backup key under a pool's own encryption contexts (a pool holds no KMS key of its
   * own): `poolToken` opens (Decrypt) the sealed PINs of the pool's token (lib/hsm/pool-tokens.ts,
   * context `{coffer:pool, coffer:purpose: pool-token}`), `poolObjects` seals and opens its keys'
   * sealed fields (lib/hsm/pool-keys.ts, context `{coffer:vault: MHSM#<pool>, coffer:purpose: objects}`).
   */
  readonly poolToken?: readonly DataKeyAction[];
  readonly poolObjects?: readonly DataKeyAction[];
}

export type EventSubscriptionGrant = 'realize' | 'remove';
/**
 * A pool's records in the objects table, as IAM `dynamodb:LeadingKeys` patterns (pool names have no
 * `#`): its record (`MHSM#<pool>`, which the pattern cannot tell from its keys' partitions), its keys'
 * partitions (`MHSM#<pool>#keys`..., lib/hsm/pool-keys.ts), its local RBAC (lib/aws/dynamo-hsm-rbac.ts)
 * its settings (lib/aws/dynamo-pool-settings.ts) and its backup jobs. A new kind of a pool's records is
 * one entry here, and each operation that writes it names it in its `poolWrites`.
 */
export const POOL_PARTITIONS = {
  record: 'MHSM#*',
  keys: 'MHSM#*#*',
  rbac: 'MHSMRBAC#*',
  settings: 'MHSMSET#*',
  // Its backup and restore jobs: the lock one job at a time holds, and each job's record (lib/aws/dynamo-pool-backup-jobs.ts).
  jobs: 'MHSMJOB#*',
} as const;
export type PoolRecords = keyof typeof POOL_PARTITIONS;

/** S3 actions on the pools' backup objects; ListBucket is granted on the bucket, for the pools' prefix only. */
export type PoolBackupAction = 'PutObject' | 'GetObject' | 'ListBucket';

/** Every field present, sorted: what the generator and the tests work with. */
export interface Grants {
  /**
   * Which records the objects-table writes may reach: vault objects (the vaults' data plane),
   * control-plane records (management), or pools' records (a pool's data plane, whose reads are
   * pools' records too; which of them its writes reach is `poolWrites`).
   */
  writes: 'vaultObjects' | 'controlPlane' | 'both' | 'pools';
  poolWrites: PoolRecords[];
  objects: ObjectsAction[];
  audit: ('PutItem' | 'Query')[];
  vaultKey: DataKeyAction[];
  backupKey: DataKeyAction[];
  hsmKeys: HsmKeyAction[];
  createsHsmKeys: KeyOrigin[];
  randomBytes: boolean;
  createsVaultKeys: boolean;
  vaultKeyLifecycle: VaultKeyAction[];
  eventSubscriptions: EventSubscriptionGrant[];
  poolToken: DataKeyAction[];
  poolObjects: DataKeyAction[];
  /**
   * The backup objects it asks for, where it asks for any: in the grants so that operations share a
   * role (identical grants) only when they ask for the same ones too.
   */
  poolBackups?: PoolBackupAction[];
}

const baseline = {
  data: { objects: ['GetItem', 'Query'], audit: ['PutItem'] },
  management: { objects: ['Query'], audit: [] },
  managementOfVault: { objects: ['Query', 'GetItem'], audit: ['PutItem'] },
  // A deleted vault is looked up, but its records go to the log stream: a deleted vault is no strict one.
  managementOfDeletedVault: { objects: ['Query', 'GetItem'], audit: [] },
  // A pool's data plane reads the pool's record (the host names it) and, to authorize, the caller's
  // assignments in the pool's RBAC (Query); its audit records go to the log stream: a pool has no strict audit.
  managedHsm: { objects: ['GetItem', 'Query'], audit: [] },
} as const satisfies Record<string, { objects: readonly ObjectsAction[]; audit: readonly 'PutItem'[] }>;

/** A management path that can name a vault: `{vaultName}`, or a role scope (which may be a vault or one of its objects). */
function namesVault(route: Route): boolean {
  return route.path.includes('{vaultName}') || route.path.startsWith(`/${SCOPE_SEGMENT}/`);
}

/**
 * The partition keys of control-plane records in the objects table (lib/aws/dynamo/layout.ts,
 * lib/aws/dynamo-access.ts), as IAM `dynamodb:LeadingKeys` patterns. Vault object partitions start
 * with the vault's lowercase name, which none of these upper-case prefixes can match.
 */
export const CONTROL_PLANE_PARTITIONS = [
  'VAULT#*',
  'VAULTSUB#*',
  'SUB#*',
  'HOST#*',
  'RA#*',
  'RASCOPE#*',
  'RAPRINCIPAL#*',
  'RAUNIQUE#*',
  'RD#*',
  'RDSCOPE#*',
  // Managed HSM pools' records and their subscriptions' index items (lib/aws/dynamo-managed-hsm-pools.ts),
  // a pool's local RBAC (its initial administrators are granted when it is created, and go with its
  // purge: lib/aws/dynamo-hsm-rbac.ts) and its settings.
  'MHSM#*',
  'MHSMSUB#*',
  'MHSMRBAC#*',
  'MHSMSET#*',
  // A pool's backup and restore jobs (lib/aws/dynamo-pool-backup-jobs.ts): its data plane's, never a vault's.
  'MHSMJOB#*',
  // Long-running operations' records (a purge's, for GetVaultOperationResult: lib/aws/dynamo-operations.ts).
  'OPERATION#*',
  // A vault's event subscriptions (lib/aws/dynamo/layout.ts): no vault or object name has a `_`.
  '*#event_subscriptions',
] as const;

const none = [] as const;

export const permissions = {
  SetSecret: { objects: ['GetItem', 'PutItem', 'ConditionCheckItem'], vaultKey: ['GenerateDataKey'], backupKey: none },
  GetSecrets: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetSecretVersions: { objects: ['Query', 'GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  GetSecret: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none },
  UpdateSecret: {
    objects: ['GetItem', 'UpdateItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['Decrypt', 'GenerateDataKey'],
    backupKey: none,
  },
  DeleteSecret: { objects: ['GetItem', 'DeleteItem', 'PutItem'], vaultKey: ['Decrypt'], backupKey: none },
  BackupSecret: { objects: ['GetItem', 'Query'], vaultKey: ['Decrypt'], backupKey: ['GenerateDataKey'] },
  // Restore removes the versions it wrote when the name turns out to be taken (BatchWriteItem): taken
  // between its check and its head write, by a concurrent writer or an interrupted purge, which the
  // coverage test cannot drive (a name taken before the check is refused without writing anything).
  RestoreSecret: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem', 'BatchWriteItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: ['Decrypt'],
  },
  GetDeletedSecrets: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetDeletedSecret: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  // Purge never opens a sealed field: it marks, deletes the versions page by page, then the head.
  PurgeDeletedSecret: { objects: ['GetItem', 'UpdateItem', 'Query', 'BatchWriteItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  // Recover writes the head's copy of the latest version from the version, on condition it is unchanged.
  RecoverDeletedSecret: { objects: ['GetItem', 'DeleteItem', 'PutItem', 'ConditionCheckItem'], vaultKey: ['Decrypt'], backupKey: none },

  // Keys, following lib/keys/ (life-cycle.ts, operate.ts). A new version is sealed metadata (and, for software keys, the
  // sealed private key) added like a secret version; an HSM version is a KMS key of its own, created
  // with tags, whose public key is read once (an imported one's public key comes with the request).
  // Deleting, recovering, purging and restoring an HSM key disable, enable, schedule or cancel the
  // deletion of the KMS keys of all its versions. Delete, recover and purge find those by querying the
  // versions (so they query for software keys too); restore reads them from the backup. Rotation
  // always generates in KMS, also for a key whose first version was imported.
  // Each of those changes KMS first and the store second, and undoes the KMS change when the store
  // write fails (lib/keys/hsm-changes.ts, changeHsmThenStore): a new version's KMS key is scheduled for
  // deletion, delete re-enables, recover disables, purge cancels the deletion, restore schedules it
  // again. Those undo grants are needed only when a store write fails after its checks passed, which
  // the coverage test cannot drive (it lists them as unreached).
  CreateKey: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: none,
    createsHsmKeys: ['AWS_KMS'],
    hsmKeys: ['GetPublicKey', 'ScheduleKeyDeletion'],
  },
  ImportKey: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: none,
    createsHsmKeys: ['EXTERNAL'],
    hsmKeys: ['GetParametersForImport', 'ImportKeyMaterial', 'ScheduleKeyDeletion'],
  },
  GetKeys: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetKeyVersions: { objects: ['Query', 'GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  GetKey: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none },
  UpdateKey: { objects: ['GetItem', 'UpdateItem', 'PutItem', 'ConditionCheckItem'], vaultKey: ['Decrypt', 'GenerateDataKey'], backupKey: none },
  DeleteKey: { objects: ['GetItem', 'DeleteItem', 'PutItem', 'Query'], vaultKey: ['Decrypt'], backupKey: none, hsmKeys: ['DisableKey', 'EnableKey'] },
  BackupKey: { objects: ['GetItem', 'Query'], vaultKey: ['Decrypt'], backupKey: ['GenerateDataKey'] },
  // BatchWriteItem as for RestoreSecret: only when the name is taken after the check, which the
  // coverage test cannot drive. The name is checked before the KMS keys are brought back.
  RestoreKey: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem', 'BatchWriteItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: ['Decrypt'],
    hsmKeys: ['CancelKeyDeletion', 'EnableKey', 'ScheduleKeyDeletion'],
  },
  // Public-key operations run in the function; private ones open the sealed software key or call KMS.
  Encrypt: { objects: ['GetItem', 'BatchGetItem'], vaultKey: none, backupKey: none },
  WrapKey: { objects: ['GetItem', 'BatchGetItem'], vaultKey: none, backupKey: none },
  Verify: { objects: ['GetItem', 'BatchGetItem'], vaultKey: none, backupKey: none },
  Decrypt: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none, hsmKeys: ['Decrypt'] },
  UnwrapKey: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none, hsmKeys: ['Decrypt'] },
  Sign: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none, hsmKeys: ['Sign'] },
  RotateKey: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['Decrypt', 'GenerateDataKey'],
    backupKey: none,
    createsHsmKeys: ['AWS_KMS'],
    hsmKeys: ['GetPublicKey', 'ScheduleKeyDeletion'],
  },
  GetKeyRotationPolicy: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  UpdateKeyRotationPolicy: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  GetDeletedKeys: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetDeletedKey: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  PurgeDeletedKey: {
    objects: ['GetItem', 'UpdateItem', 'Query', 'BatchWriteItem', 'DeleteItem'],
    vaultKey: none,
    backupKey: none,
    hsmKeys: ['ScheduleKeyDeletion', 'CancelKeyDeletion'],
  },
  RecoverDeletedKey: {
    objects: ['GetItem', 'DeleteItem', 'PutItem', 'ConditionCheckItem', 'Query'],
    vaultKey: ['Decrypt'],
    backupKey: none,
    hsmKeys: ['EnableKey', 'DisableKey'],
  },
  // Not offered: they answer 400 before touching the store or KMS.
  ReleaseKey: { objects: none, vaultKey: none, backupKey: none },
  GetKeyAttestation: { objects: none, vaultKey: none, backupKey: none },
  GetRandomBytes: { objects: none, vaultKey: none, backupKey: none, randomBytes: true },

  // Certificates, following lib/certificates/ (reference §1.3): a certificate is three objects of one
  // name, the certificate, its managed key and its managed secret, and each change is one linked write
  // over the three (lib/objects/store.ts): the heads read together (BatchGetItem), then one
  // TransactWriteItems of the same item actions as the keys' and secrets' writes. Beside them are the
  // certificate's policy (an attachment of the certificate) and the vault's documents (contacts,
  // issuers, each certificate's operation: lib/aws/dynamo-certificate-documents.ts), plain items in
  // the objects table written with UpdateItem (which keeps the first casing of a name). A new version seals its metadata, key and secret (GenerateDataKey); an
  // answer with tags opens them (Decrypt). An HSM-backed certificate's key is a KMS key like an HSM
  // key version's, created, disabled, enabled and scheduled for deletion as keys do, with the same undo
  // of the KMS change when the store write fails (unreached by the coverage test); its certificate and
  // CSR are signed in KMS.
  CreateCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'],
    vaultKey: ['GenerateDataKey', 'Decrypt'],
    backupKey: none,
    createsHsmKeys: ['AWS_KMS'],
    hsmKeys: ['GetPublicKey', 'Sign', 'ScheduleKeyDeletion'],
  },
  // An HSM import's key is imported into KMS, and its public key read back from there.
  ImportCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: none,
    createsHsmKeys: ['EXTERNAL'],
    hsmKeys: ['GetParametersForImport', 'ImportKeyMaterial', 'GetPublicKey', 'ScheduleKeyDeletion'],
  },
  GetCertificates: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetCertificateVersions: { objects: ['Query', 'GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  GetCertificate: { objects: ['GetItem', 'BatchGetItem'], vaultKey: ['Decrypt'], backupKey: none },
  UpdateCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['Decrypt', 'GenerateDataKey'],
    backupKey: none,
  },
  // The policy is sealed (it names subjects and contacts' e-mail addresses): opened to read, sealed again to write.
  GetCertificatePolicy: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  UpdateCertificatePolicy: { objects: ['GetItem', 'PutItem'], vaultKey: ['Decrypt', 'GenerateDataKey'], backupKey: none },
  DeleteCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'DeleteItem', 'PutItem', 'Query'],
    vaultKey: ['Decrypt'],
    backupKey: none,
    hsmKeys: ['DisableKey', 'EnableKey'],
  },
  BackupCertificate: { objects: ['GetItem', 'Query'], vaultKey: ['Decrypt'], backupKey: ['GenerateDataKey'] },
  // BatchWriteItem as for RestoreKey: only when a name is taken after the check.
  RestoreCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'PutItem', 'ConditionCheckItem', 'BatchWriteItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: ['Decrypt'],
    hsmKeys: ['CancelKeyDeletion', 'EnableKey', 'ScheduleKeyDeletion'],
  },
  GetDeletedCertificates: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetDeletedCertificate: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  PurgeDeletedCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'UpdateItem', 'Query', 'BatchWriteItem', 'DeleteItem'],
    vaultKey: none,
    backupKey: none,
    hsmKeys: ['ScheduleKeyDeletion', 'CancelKeyDeletion'],
  },
  RecoverDeletedCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'DeleteItem', 'PutItem', 'ConditionCheckItem', 'Query'],
    vaultKey: ['Decrypt'],
    backupKey: none,
    hsmKeys: ['EnableKey', 'DisableKey'],
  },
  // The operation document: read, cancelled (written back), removed; cancelling or removing one in
  // progress schedules the deletion of an HSM key made for it.
  GetCertificateOperation: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  UpdateCertificateOperation: { objects: ['GetItem', 'UpdateItem'], vaultKey: none, backupKey: none, hsmKeys: ['ScheduleKeyDeletion'] },
  DeleteCertificateOperation: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none, hsmKeys: ['ScheduleKeyDeletion'] },
  // Merge opens the pending key and the create's sealed request, and writes the version as create does.
  MergeCertificate: {
    objects: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'],
    vaultKey: ['GenerateDataKey', 'Decrypt'],
    backupKey: none,
  },
  // Contacts and issuers are documents; an issuer's password is sealed, and never opened to answer.
  SetCertificateContacts: { objects: ['UpdateItem'], vaultKey: none, backupKey: none },
  GetCertificateContacts: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  DeleteCertificateContacts: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  GetCertificateIssuers: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  SetCertificateIssuer: { objects: ['GetItem', 'UpdateItem'], vaultKey: ['GenerateDataKey'], backupKey: none },
  UpdateCertificateIssuer: { objects: ['GetItem', 'UpdateItem'], vaultKey: ['GenerateDataKey'], backupKey: none },
  GetCertificateIssuer: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  DeleteCertificateIssuer: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none },

  // The management plane (lib/vaults, lib/access through lib/aws/dynamo-vaults.ts, dynamo-access.ts,
  // dynamo-resource-groups.ts). Beyond the baseline: subscriptions are configuration; resource groups
  // are items under their subscription; listing vaults queries the subscription's index and reads
  // the vault records (BatchGetItem); a vault's changes are conditional puts of its record and its
  // index item; role assignments and definitions are transactions of their item and its index items.
  ListSubscriptions: { objects: none, vaultKey: none, backupKey: none },
  GetSubscription: { objects: none, vaultKey: none, backupKey: none },
  ListResourceGroups: { objects: none, vaultKey: none, backupKey: none },
  CreateOrUpdateResourceGroup: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  GetResourceGroup: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  // A group that still holds a vault is not deleted: the subscription's vaults are read first.
  DeleteResourceGroup: { objects: ['GetItem', 'BatchGetItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  ListResources: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  CheckVaultNameAvailability: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  ListVaultsBySubscription: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  ListVaultsByResourceGroup: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  // Creating claims a local endpoint (none in AWS), creates the vault key and its paging key, then
  // writes the record; when the record turns out to be taken by a concurrent create, the claim is
  // released (DeleteItem) and the new key scheduled for deletion, which the coverage test cannot drive.
  CreateOrUpdateVault: {
    objects: ['GetItem', 'PutItem', 'DeleteItem'],
    vaultKey: none,
    backupKey: none,
    createsVaultKeys: true,
    vaultKeyLifecycle: ['ScheduleKeyDeletion'],
  },
  GetVault: { objects: none, vaultKey: none, backupKey: none },
  UpdateVault: { objects: ['PutItem'], vaultKey: none, backupKey: none },
  DeleteVault: { objects: ['PutItem'], vaultKey: none, backupKey: none },
  UpdateVaultAccessPolicy: { objects: ['PutItem'], vaultKey: none, backupKey: none },
  ListDeletedVaults: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  GetDeletedVault: { objects: none, vaultKey: none, backupKey: none },
  // Purging removes the vault's event subscriptions' AWS resources, the vault's objects page by page, then its record and index item, releases its
  // endpoint and schedules the deletion of its own key and of its HSM key versions' keys; then it
  // records its finished operation for ARM clients to poll.
  PurgeDeletedVault: {
    objects: ['BatchWriteItem', 'DeleteItem', 'PutItem'],
    vaultKey: none,
    backupKey: none,
    purgesVaultObjects: true,
    hsmKeys: ['ScheduleKeyDeletion'],
    vaultKeyLifecycle: ['ScheduleKeyDeletion'],
    // Its event subscriptions' rules, connections and API destinations go before its records (Query of their partition).
    eventSubscriptions: 'remove',
  },
  // The operation a purge recorded.
  GetVaultOperationResult: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  // The audit query reads the vault's audit partitions; its nextLink is signed with the vault's paging key.
  ListAuditEvents: { objects: none, vaultKey: ['Decrypt'], backupKey: none, readsAudit: true },
  // An assignment's role must exist (a custom one is an item) and be assignable at the scope.
  CreateRoleAssignment: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  GetRoleAssignment: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  DeleteRoleAssignment: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  ListRoleAssignments: { objects: none, vaultKey: none, backupKey: none },
  // Role names are unique in the subscription (Query of its definitions); a definition still assigned is not deleted.
  CreateOrUpdateRoleDefinition: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  GetRoleDefinition: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  DeleteRoleDefinition: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  ListRoleDefinitions: { objects: none, vaultKey: none, backupKey: none },
  // Event subscriptions (lib/events/subscriptions.ts, lib/aws/dynamo-event-subscriptions.ts): a record
  // in the vault's `<vault>#event_subscriptions` partition (a control-plane record), realized on the
  // bus as a rule, a connection and an API destination (lib/aws/eventbridge-subscriptions.ts), each
  // upserted (a create that finds one updates it) or deleted (one already gone is fine).
  CreateOrUpdateEventSubscription: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none, eventSubscriptions: 'realize' },
  GetEventSubscription: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  UpdateEventSubscription: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none, eventSubscriptions: 'realize' },
  DeleteEventSubscription: { objects: ['GetItem', 'DeleteItem'], vaultKey: none, backupKey: none, eventSubscriptions: 'remove' },
  ListEventSubscriptionsByResource: { objects: none, vaultKey: none, backupKey: none },
  GetEventSubscriptionFullUrl: { objects: ['GetItem'], vaultKey: none, backupKey: none },
} as const satisfies Record<MainStackOperationName, OperationPermissions>;

/**
 * The managed HSM pools' operations (lib/hsm/pool-manager.ts through lib/aws/dynamo-managed-hsm-pools.ts), laid out
 * as vaults are: the record and its index item in one transaction, changes conditional on the
 * revision, lists through the subscription's index. A pool holds no KMS key; creating claims a local
 * endpoint (none in AWS) and releases it when the record turns out to be taken, which the coverage
 * test cannot drive; purging removes record and index item, releases the endpoint and records its
 * finished operation for GetVaultOperationResult. They deploy with the pools' own stack, not with
 * the main one (docs/adr/0020): its roles are to be generated from this map as the main stack's are.
 */
export const managedHsmPoolPermissions = {
  CheckManagedHsmNameAvailability: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  ListManagedHsmsBySubscription: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  ListManagedHsmsByResourceGroup: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  CreateOrUpdateManagedHsm: { objects: ['GetItem', 'PutItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  GetManagedHsm: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  UpdateManagedHsm: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  DeleteManagedHsm: { objects: ['GetItem', 'PutItem'], vaultKey: none, backupKey: none },
  ListDeletedManagedHsms: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none },
  GetDeletedManagedHsm: { objects: ['GetItem'], vaultKey: none, backupKey: none },
  PurgeDeletedManagedHsm: { objects: ['GetItem', 'BatchWriteItem', 'DeleteItem', 'PutItem'], vaultKey: none, backupKey: none },
} as const satisfies Record<ManagedHsmPoolOperationName, OperationPermissions>;

/**
 * A managed HSM pool's own data plane (lib/runtime/hsm*.ts; docs/adr/0022, 0024), deployed with the
 * pools' stack on its own API. Its reads and writes reach pools' records only (`POOL_PARTITIONS`),
 * each operation's writes only the records it names in `poolWrites`:
 *   - RBAC (lib/aws/dynamo-hsm-rbac.ts): an assignment is one transaction of its item and its copy
 *     in the principal's partition of the pool (the first put conditional), a deletion one
 *     transaction of both deletes; a definition one put; a custom definition still assigned is not
 *     deleted (the assignments are queried);
 *   - settings (lib/aws/dynamo-pool-settings.ts): a PATCH is one put, a read one Query;
 *   - the security domain writes the pool's record (its activation, the download's or upload's
 *     status, conditional on the revision) and opens the pool's HSM;
 *   - keys (lib/keys/ over lib/hsm/pool-keys.ts) are the vaults' key code paths at the pool's own
 *     partition `MHSM#<pool>`, their sealed fields under the deployment's backup key (`poolObjects`),
 *     and every one that reaches the HSM opens the pool token's PINs first (`poolToken`, Decrypt);
 *     no KMS key stands behind a pool's key.
 * Adding a row is adding its entry here: the pools' stack generates its role from it.
 */
const managedHsmDataPermissions = {
  // An assignment is a transaction of two puts (the pool's item, the principal's copy), read first
  // for its role; its deletion a transaction of both deletes.
  CreateHsmRoleAssignment: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['rbac'] },
  GetHsmRoleAssignment: { objects: none, vaultKey: none, backupKey: none },
  DeleteHsmRoleAssignment: { objects: ['DeleteItem'], vaultKey: none, backupKey: none, poolWrites: ['rbac'] },
  ListHsmRoleAssignments: { objects: none, vaultKey: none, backupKey: none },
  SetHsmRoleDefinition: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['rbac'] },
  GetHsmRoleDefinition: { objects: none, vaultKey: none, backupKey: none },
  // A definition still assigned is not deleted (the partition is queried); its items go in one batch.
  DeleteHsmRoleDefinition: { objects: ['BatchWriteItem'], vaultKey: none, backupKey: none, poolWrites: ['rbac'] },
  ListHsmRoleDefinitions: { objects: none, vaultKey: none, backupKey: none },
  GetHsmSettings: { objects: none, vaultKey: none, backupKey: none },
  GetHsmSetting: { objects: none, vaultKey: none, backupKey: none },
  UpdateHsmSetting: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['settings'] },
  // The download, the transfer key and the upload open the pool's HSM and write the pool's record
  // (its activation, its domain's transfer key, an upload's status); the statuses read the record.
  DownloadHsmSecurityDomain: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['record'], poolToken: ['Decrypt'] },
  GetHsmSecurityDomainDownloadStatus: { objects: none, vaultKey: none, backupKey: none },
  GetHsmSecurityDomainTransferKey: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['record'], poolToken: ['Decrypt'] },
  UploadHsmSecurityDomain: { objects: ['PutItem'], vaultKey: none, backupKey: none, poolWrites: ['record'], poolToken: ['Decrypt'] },
  GetHsmSecurityDomainUploadStatus: { objects: none, vaultKey: none, backupKey: none },
  // A new version as a vault's (the name checked against the deleted keys), its handle and public
  // part sealed under the backup key; the HSM makes the key first.
  CreateHsmKey: {
    objects: ['PutItem', 'ConditionCheckItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['keys'],
    poolToken: ['Decrypt'],
    poolObjects: ['GenerateDataKey'],
  },
  ImportHsmKey: {
    objects: ['PutItem', 'ConditionCheckItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['keys'],
    poolToken: ['Decrypt'],
    poolObjects: ['GenerateDataKey'],
  },
  GetHsmKeys: { objects: none, vaultKey: none, backupKey: none, poolObjects: ['Decrypt'] },
  GetHsmKeyVersions: { objects: none, vaultKey: none, backupKey: none, poolObjects: ['Decrypt'] },
  GetHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolObjects: ['Decrypt'] },
  UpdateHsmKey: {
    objects: ['UpdateItem', 'PutItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['keys'],
    poolObjects: ['Decrypt', 'GenerateDataKey'],
  },
  // Delete and recover move the head, never the HSM's material (a purge removes it).
  DeleteHsmKey: { objects: ['DeleteItem', 'PutItem'], vaultKey: none, backupKey: none, poolWrites: ['keys'], poolObjects: ['Decrypt'] },
  // The key's handle is in the version's plain part: an operation opens nothing sealed, only the HSM.
  EncryptWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  DecryptWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  WrapWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  UnwrapWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  SignWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  VerifyWithHsmKey: { objects: ['BatchGetItem'], vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  GetDeletedHsmKeys: { objects: none, vaultKey: none, backupKey: none, poolObjects: ['Decrypt'] },
  GetDeletedHsmKey: { objects: none, vaultKey: none, backupKey: none, poolObjects: ['Decrypt'] },
  // Marks the deleted head, removes every version's material from the HSM, the versions page by page, then the head.
  PurgeDeletedHsmKey: {
    objects: ['UpdateItem', 'BatchWriteItem', 'DeleteItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['keys'],
    poolToken: ['Decrypt'],
  },
  RecoverDeletedHsmKey: {
    objects: ['DeleteItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['keys'],
    poolObjects: ['Decrypt'],
  },
  GetRandomBytesFromHsm: { objects: none, vaultKey: none, backupKey: none, poolToken: ['Decrypt'] },
  // Full backup and restore (docs/adr/0025): each takes and frees the pool's job lock and writes its
  // job's record; a backup opens the keys' tags and writes the backup's objects, a restore reads them,
  // imports into the HSM and replaces the keys' records, sealing their tags again.
  HsmFullBackup: {
    objects: ['PutItem', 'DeleteItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['jobs'],
    poolToken: ['Decrypt'],
    poolObjects: ['Decrypt'],
    poolBackups: ['PutObject', 'ListBucket'],
  },
  HsmFullBackupStatus: { objects: none, vaultKey: none, backupKey: none },
  HsmPreFullBackup: { objects: ['PutItem', 'DeleteItem'], vaultKey: none, backupKey: none, poolWrites: ['jobs'] },
  // A full restore also puts the backup's role assignments and custom roles back (PutItem on the pool's RBAC records).
  HsmFullRestore: {
    objects: ['PutItem', 'DeleteItem', 'UpdateItem', 'BatchWriteItem', 'ConditionCheckItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['jobs', 'keys', 'rbac'],
    poolToken: ['Decrypt'],
    poolObjects: ['GenerateDataKey'],
    poolBackups: ['GetObject'],
  },
  HsmRestoreStatus: { objects: none, vaultKey: none, backupKey: none },
  HsmPreFullRestore: { objects: ['PutItem', 'DeleteItem'], vaultKey: none, backupKey: none, poolWrites: ['jobs'], poolBackups: ['GetObject'] },
  HsmSelectiveKeyRestore: {
    objects: ['PutItem', 'DeleteItem', 'UpdateItem', 'BatchWriteItem', 'ConditionCheckItem'],
    vaultKey: none,
    backupKey: none,
    poolWrites: ['jobs', 'keys'],
    poolToken: ['Decrypt'],
    poolObjects: ['GenerateDataKey'],
    poolBackups: ['GetObject'],
  },
} as const satisfies Record<ManagedHsmDataOperationName, OperationPermissions>;

/** The entry of an operation of either stack: the main stack's `permissions` or the pools' stack's. */
export function ownPermissionsOf(operation: string): OperationPermissions | undefined {
  return (
    (permissions as Record<string, OperationPermissions | undefined>)[operation] ??
    (managedHsmPoolPermissions as Record<string, OperationPermissions | undefined>)[operation] ??
    (managedHsmDataPermissions as Record<string, OperationPermissions | undefined>)[operation]
  );
}

/** The permissions of an operation (of the main stack or the pools'), baseline included. Throws for an operation without an entry. */
export function permissionsFor(operation: string): Grants {
  const own = ownPermissionsOf(operation);
  if (!own) throw new Error(`infra/permissions.ts has no entry for operation ${operation}: add what its code path calls`);
  const route = localRoutes.find((r) => r.operation === operation);
  const management = route?.plane === 'management';
  const pool = route?.plane === 'managedHsm';
  const base =
    baseline[
      pool
        ? 'managedHsm'
        : !management
          ? 'data'
          : !namesVault(route)
            ? 'management'
            : route.path.includes('/deletedVaults/')
              ? 'managementOfDeletedVault'
              : 'managementOfVault'
    ];
  return {
    writes: pool ? 'pools' : !management ? 'vaultObjects' : own.purgesVaultObjects ? 'both' : 'controlPlane',
    poolWrites: sortedUnique(own.poolWrites ?? []),
    objects: sortedUnique([...base.objects, ...own.objects]),
    audit: sortedUnique([...base.audit, ...(own.readsAudit ? (['Query'] as const) : [])]),
    vaultKey: sortedUnique(own.vaultKey),
    backupKey: sortedUnique(own.backupKey),
    hsmKeys: sortedUnique(own.hsmKeys ?? []),
    createsHsmKeys: sortedUnique(own.createsHsmKeys ?? []),
    randomBytes: own.randomBytes ?? false,
    createsVaultKeys: own.createsVaultKeys ?? false,
    vaultKeyLifecycle: sortedUnique(own.vaultKeyLifecycle ?? []),
    eventSubscriptions: own.eventSubscriptions ? [own.eventSubscriptions] : [],
    poolToken: sortedUnique(own.poolToken ?? []),
    poolObjects: sortedUnique(own.poolObjects ?? []),
    ...(own.poolBackups?.length ? { poolBackups: sortedUnique(own.poolBackups) } : {}),
  };
}

function sortedUnique<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort();
}

/** DynamoDB actions on the audit table. */
export type AuditAction = 'PutItem' | 'BatchWriteItem';
/** What Lambda's poller does on a DynamoDB stream it feeds a function from, with that function's role. */
export type StreamAction = 'DescribeStream' | 'GetRecords' | 'GetShardIterator' | 'ListStreams';

/** What a function no route reaches may do, beyond its own log group and its on-failure queue. */
export interface EventFunctionPermissions {
  /** DynamoDB actions on the audit table. */
  readonly audit?: readonly AuditAction[];
  /** Reads of vault records (`VAULT#<name>` items) in the objects table, and of nothing else there. */
  readonly vaultRecords?: readonly 'GetItem'[];
  /** The objects table's stream, which the function's event source mapping reads. */
  readonly objectsStream?: readonly StreamAction[];
  /** EventBridge actions on the deployment's bus (infra/events.yml). */
  readonly eventBus?: readonly 'PutEvents'[];
  /** Reads of the objects' heads, deleted heads and scheduled attachments (what the schedule is derived from). */
  readonly scheduleSources?: readonly 'GetItem'[];
  /** The vaults' due items (`<vault>#schedule` partitions). */
  readonly dueItems?: readonly ObjectsAction[];
  /** Queries of the objects table's due index (lib/aws/tables.ts dueIndex). */
  readonly dueIndex?: readonly 'Query'[];
  /** The function does the work of these operations (with their grants, infra/permissions.ts `permissions`). */
  readonly operations?: readonly OperationName[];
}

/**
 * The functions no route reaches (infra/event-functions.ts `eventFunctions`), by function key: what
 * their code path calls, checked by test/deploy/iam-coverage-events.test.ts as the operations' are.
 * Their roles also get their own log group and, where they have one, their on-failure destination.
 */
export const eventPermissions = {
  // lib/audit/delivery.ts through lib/aws/dynamo-audit.ts: records in batches of 25, nothing read.
  DeliverAuditRecords: { audit: ['BatchWriteItem'] },
  // lib/runtime/events.ts: the vault record of each change's vault (lib/aws/dynamo-vaults.ts getVault,
  // for the event's topic), then the events in PutEvents requests of up to 10 (lib/aws/eventbridge-publisher.ts).
  // The stream is read by Lambda's poller, not by the handler: the coverage test cannot record those
  // four actions, they are what the Lambda developer guide asks of a DynamoDB event source's role.
  // It also keeps the due items in step (lib/events/schedule.ts ScheduleKeeper): the changed object's
  // head, deleted head and rotation policy or lifetime action (GetItem), then its due items (Query of
  // its slots, PutItem of new work, DeleteItem of what is no longer due).
  PublishEvents: {
    vaultRecords: ['GetItem'],
    objectsStream: ['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams'],
    eventBus: ['PutEvents'],
    scheduleSources: ['GetItem'],
    dueItems: ['Query', 'PutItem', 'DeleteItem'],
  },
  // lib/runtime/scheduler.ts: the due index by shard, each due item (GetItem, then UpdateItem to claim
  // and complete it), the events it publishes, and the work of the operations it does on their own
  // code paths (rotation, renewal, the purges of objects and of vaults), with their grants.
  RunScheduledWork: {
    dueIndex: ['Query'],
    eventBus: ['PutEvents'],
    operations: ['RotateKey', 'CreateCertificate', 'PurgeDeletedSecret', 'PurgeDeletedKey', 'PurgeDeletedCertificate', 'PurgeDeletedVault'],
  },
} as const satisfies Record<string, EventFunctionPermissions>;

/**
 * The partitions the schedule is derived from (lib/aws/dynamo/layout.ts): heads, deleted heads, and
 * the attachments of keys and certificates, as `dynamodb:LeadingKeys` patterns.
 */
export const SCHEDULE_SOURCE_PARTITIONS = [
  '*#secrets',
  '*#keys',
  '*#certificates',
  '*#deletedsecrets',
  '*#deletedkeys',
  '*#deletedcertificates',
  '*#keys-attachments#*',
  '*#certificates-attachments#*',
] as const;
/** The vaults' due items (lib/aws/dynamo/layout.ts schedulePartition). */
export const DUE_ITEM_PARTITIONS = ['*#schedule'] as const;

/** The grants of several operations together: what a function doing all their work needs. */
export function grantsOfAll(operations: readonly string[]): Grants {
  const all = operations.map(permissionsFor);
  const writes = new Set(all.map((g) => g.writes));
  return {
    writes: writes.size === 1 ? [...writes][0]! : 'both',
    poolWrites: sortedUnique(all.flatMap((g) => g.poolWrites)),
    objects: sortedUnique(all.flatMap((g) => g.objects)),
    audit: sortedUnique(all.flatMap((g) => g.audit)),
    vaultKey: sortedUnique(all.flatMap((g) => g.vaultKey)),
    backupKey: sortedUnique(all.flatMap((g) => g.backupKey)),
    hsmKeys: sortedUnique(all.flatMap((g) => g.hsmKeys)),
    createsHsmKeys: sortedUnique(all.flatMap((g) => g.createsHsmKeys)),
    randomBytes: all.some((g) => g.randomBytes),
    createsVaultKeys: all.some((g) => g.createsVaultKeys),
    vaultKeyLifecycle: sortedUnique(all.flatMap((g) => g.vaultKeyLifecycle)),
    eventSubscriptions: sortedUnique(all.flatMap((g) => g.eventSubscriptions)),
    poolToken: sortedUnique(all.flatMap((g) => g.poolToken)),
    poolObjects: sortedUnique(all.flatMap((g) => g.poolObjects)),
  };
}
