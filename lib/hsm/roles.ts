import { KEY_CRYPTO_ACTIONS, type RoleDefinition } from '../access/roles.ts';

/**
 * Managed HSM local RBAC's built-in roles (docs/adr/0021-managed-hsm-local-rbac.md): what a pool's
 * data plane lets each role's holders do, as `Microsoft.KeyVault/managedHsm/` DataActions. The
 * permissions are those a Managed HSM answers for its built-in roles (GET /providers/Microsoft.
 * Authorization/roleDefinitions, as Microsoft's SDK test recordings hold it), with an empty
 * description as the service gives it; the Restore role, which no recording holds yet, is the
 * documentation's (managed-hsm/built-in-roles.md). The ADR lists where the sources differ.
 */
export const HSM_DATA_ACTION_PREFIX = 'Microsoft.KeyVault/managedHsm/';

/**
 * Every DataAction a pool knows, without the prefix: the Python SDK's KeyVaultDataAction enum (its
 * spelling is authoritative), and the four the service's own definitions use beyond it
 * (keys/rotate/action, keys/derive/action, settings/read/action, settings/write/action).
 */

/** Activating a pool (download) and restoring its domain into another (transfer key, upload). */
const SECURITY_DOMAIN = [
  'securitydomain/download/action',
  'securitydomain/download/read',
  'securitydomain/upload/action',
  'securitydomain/upload/read',
  'securitydomain/transferkey/read',
] as const;

export const HSM_DATA_ACTIONS = [
  'keys/read/action',
  'keys/write/action',
  'keys/create',
  'keys/delete',
  'keys/rotate/action',
  'keys/import/action',
  'keys/export/action',
  'keys/release/action',
  'keys/backup/action',
  'keys/restore/action',
  'keys/derive/action',
  ...KEY_CRYPTO_ACTIONS,
  'keys/deletedKeys/read/action',
  'keys/deletedKeys/recover/action',
  'keys/deletedKeys/delete',
  'roleAssignments/read/action',
  'roleAssignments/write/action',
  'roleAssignments/delete/action',
  'roleDefinitions/read/action',
  'roleDefinitions/write/action',
  'roleDefinitions/delete/action',
  ...SECURITY_DOMAIN,
  'backup/start/action',
  'backup/status/action',
  'restore/start/action',
  'restore/status/action',
  'settings/read/action',
  'settings/write/action',
  'rng/action',
] as const;

export type HsmDataAction = (typeof HSM_DATA_ACTIONS)[number];

export const hsmRoleIds = {
  administrator: 'a290e904-7015-4bba-90c8-60543313cdb4',
  cryptoOfficer: '515eb02d-2335-4d2d-92f2-b1cbdf9c3778',
  cryptoUser: '21dbd100-6940-42c2-9190-5d6cb909625b',
  policyAdministrator: '4bd23610-cdcf-4971-bdee-bdc562cc28e4',
  cryptoAuditor: '2c18b078-7c48-4d3a-af88-5a3a1b3f82b3',
  cryptoServiceEncryptionUser: '33413926-3206-4cdd-b39a-83574fe37a17',
  cryptoServiceReleaseUser: '21dbd100-6940-42c2-9190-5d6cb909625c',
  backup: '7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8',
  restore: '6efe6056-5259-49d2-8b3d-d3d73544b20b',
} as const;

const MANAGE_ROLES: HsmDataAction[] = [
  'roleAssignments/delete/action',
  'roleAssignments/read/action',
  'roleAssignments/write/action',
  'roleDefinitions/read/action',
  'roleDefinitions/write/action',
  'roleDefinitions/delete/action',
];

export const hsmBuiltInRoles: readonly RoleDefinition[] = [
  // "Security domain, full backup and restore, and role management. Not permitted to perform any key management operations."
  builtIn(hsmRoleIds.administrator, 'Managed HSM Administrator', [
    ...MANAGE_ROLES,
    ...SECURITY_DOMAIN,
    'backup/start/action',
    'restore/start/action',
    'backup/status/action',
    'restore/status/action',
    'settings/read/action',
    'settings/write/action',
  ]),
  // "All role management, purge or recover deleted keys, and export keys."
  builtIn(hsmRoleIds.cryptoOfficer, 'Managed HSM Crypto Officer', [
    ...MANAGE_ROLES,
    'keys/deletedKeys/read/action',
    'keys/deletedKeys/delete',
    'keys/deletedKeys/recover/action',
    'keys/export/action',
  ]),
  // "All key management operations except purge or recover deleted keys and export keys."
  builtIn(hsmRoleIds.cryptoUser, 'Managed HSM Crypto User', [
    'roleDefinitions/read/action',
    'roleAssignments/read/action',
    'keys/read/action',
    'keys/write/action',
    'keys/delete',
    'keys/create',
    'keys/rotate/action',
    'keys/import/action',
    'keys/release/action',
    'keys/backup/action',
    'keys/restore/action',
    ...KEY_CRYPTO_ACTIONS,
    'keys/derive/action',
    'rng/action',
  ]),
  // "Create and delete role assignments" (and, in its permissions, role definitions too).
  builtIn(hsmRoleIds.policyAdministrator, 'Managed HSM Policy Administrator', [
    'roleDefinitions/read/action',
    'roleDefinitions/write/action',
    'roleDefinitions/delete/action',
    'roleAssignments/read/action',
    'roleAssignments/write/action',
    'roleAssignments/delete/action',
  ]),
  // "Read (but not use) key attributes."
  builtIn(hsmRoleIds.cryptoAuditor, 'Managed HSM Crypto Auditor', [
    'roleAssignments/read/action',
    'roleDefinitions/read/action',
    'keys/read/action',
    'keys/deletedKeys/read/action',
  ]),
  // "Use a key for service encryption."
  builtIn(hsmRoleIds.cryptoServiceEncryptionUser, 'Managed HSM Crypto Service Encryption User', [
    'keys/read/action',
    'keys/wrap/action',
    'keys/unwrap/action',
  ]),
  // "Release a key to a trusted execution environment."
  builtIn(hsmRoleIds.cryptoServiceReleaseUser, 'Managed HSM Crypto Service Release User', ['keys/release/action']),
  // "Single-key or whole-HSM backup." The documentation names it "Managed HSM Backup"; the service, "Managed HSM Backup User".
  builtIn(hsmRoleIds.backup, 'Managed HSM Backup User', ['backup/start/action', 'backup/status/action', 'keys/backup/action']),
  // "Single-key or whole-HSM restore." (the documentation's table: no recording of the service holds it)
  builtIn(hsmRoleIds.restore, 'Managed HSM Restore', ['restore/start/action', 'restore/status/action', 'keys/restore/action']),
];

const builtInByName = new Map(hsmBuiltInRoles.map((role) => [role.name, role]));

/** A pool's built-in role by GUID, any case. */
export function hsmBuiltInRole(name: string): RoleDefinition | undefined {
  return builtInByName.get(name.toLowerCase());
}

function builtIn(name: string, roleName: string, dataActions: HsmDataAction[]): RoleDefinition {
  return {
    name,
    roleName,
    description: '',
    roleType: 'BuiltInRole',
    permissions: [{ actions: [], notActions: [], dataActions: dataActions.map((a) => HSM_DATA_ACTION_PREFIX + a), notDataActions: [] }],
    assignableScopes: ['/'],
  };
}
