import type { OperationName } from '../lib/http/routes.ts';

/**
 * The AWS permissions of each operation's Lambda function, in one place. The IAM policies in the
 * template are generated from this map (infra/serverless-config.ts), a test checks every route has
 * an entry, and another runs the operations against the local stack and checks every DynamoDB and
 * KMS call they make is covered here: the local stack has no IAM, so a missing grant would otherwise
 * first show as AccessDenied in AWS.
 *
 * What every operation does is in `baseline`, not repeated per operation: the request pipeline reads
 * the vault record (GetItem on the objects table) and writes the audit record (PutItem on the audit
 * table). Everything else follows the operation's code path through lib/store and lib/crypto:
 *   - a TransactWriteItems needs the item actions inside it (PutItem, UpdateItem, DeleteItem) and
 *     ConditionCheckItem for its ConditionChecks; there is no TransactWriteItems IAM action;
 *   - `vaultKey` is the vault's own KMS key: GenerateDataKey to seal, Decrypt to open a sealed field or
 *     the vault's paging key (list operations sign their $skiptoken with it);
 *   - `backupKey` is the deployment's backup key (backup seals with it, restore opens with it).
 */
export type ObjectsAction = 'GetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem' | 'BatchWriteItem';
export type DataKeyAction = 'GenerateDataKey' | 'Decrypt';

export interface OperationPermissions {
  /** DynamoDB actions on the objects table (vault objects and their versions). */
  readonly objects: readonly ObjectsAction[];
  readonly vaultKey: readonly DataKeyAction[];
  readonly backupKey: readonly DataKeyAction[];
}

export const baseline = {
  objects: ['GetItem'],
  audit: ['PutItem'],
} as const satisfies { objects: readonly ObjectsAction[]; audit: readonly 'PutItem'[] };

/**
 * Writes the data plane never makes: vault records (`VAULT#<name>`, which hold the role assignments)
 * are written by the control plane only, so a compromised function cannot grant itself a role.
 */
export const controlPlanePartitionPattern = 'VAULT#*';

const none = [] as const;

export const permissions = {
  SetSecret: { objects: ['GetItem', 'PutItem', 'ConditionCheckItem'], vaultKey: ['GenerateDataKey'], backupKey: none },
  GetSecrets: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetSecretVersions: { objects: ['Query', 'GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  GetSecret: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  UpdateSecret: {
    objects: ['GetItem', 'UpdateItem', 'PutItem', 'ConditionCheckItem'],
    vaultKey: ['Decrypt', 'GenerateDataKey'],
    backupKey: none,
  },
  DeleteSecret: { objects: ['GetItem', 'DeleteItem', 'PutItem'], vaultKey: ['Decrypt'], backupKey: none },
  BackupSecret: { objects: ['GetItem', 'Query'], vaultKey: ['Decrypt'], backupKey: ['GenerateDataKey'] },
  // Restore removes the versions it wrote when the name turns out to be taken (BatchWriteItem).
  RestoreSecret: {
    objects: ['GetItem', 'PutItem', 'ConditionCheckItem', 'BatchWriteItem'],
    vaultKey: ['GenerateDataKey'],
    backupKey: ['Decrypt'],
  },
  GetDeletedSecrets: { objects: ['Query'], vaultKey: ['Decrypt'], backupKey: none },
  GetDeletedSecret: { objects: ['GetItem'], vaultKey: ['Decrypt'], backupKey: none },
  // Purge never opens a sealed field: it marks, deletes the versions page by page, then the head.
  PurgeDeletedSecret: { objects: ['GetItem', 'UpdateItem', 'Query', 'BatchWriteItem', 'DeleteItem'], vaultKey: none, backupKey: none },
  RecoverDeletedSecret: { objects: ['GetItem', 'DeleteItem', 'PutItem'], vaultKey: ['Decrypt'], backupKey: none },
} as const satisfies Record<OperationName, OperationPermissions>;

/** The permissions of an operation, baseline included. Throws for an operation without an entry. */
export function permissionsFor(operation: string): OperationPermissions & { audit: readonly 'PutItem'[] } {
  const own = (permissions as Record<string, OperationPermissions | undefined>)[operation];
  if (!own) throw new Error(`infra/permissions.ts has no entry for operation ${operation}: add what its code path calls`);
  return {
    objects: sortedUnique([...baseline.objects, ...own.objects]),
    vaultKey: sortedUnique(own.vaultKey),
    backupKey: sortedUnique(own.backupKey),
    audit: baseline.audit,
  };
}

function sortedUnique<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort();
}
