/**
 * Role definitions (reference §6): what a role lets its holders do, as ARM `Actions` on the
 * management plane and `DataActions` on the vault data plane. The built-in roles are code; custom
 * roles are stored (lib/access/assignments.ts) with the same shape.
 */
export interface RolePermissions {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  /** The role's GUID: the last segment of its ARM id. */
  name: string;
  roleName: string;
  description: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  permissions: RolePermissions[];
  /** `/` for the built-in roles (assignable anywhere); a custom role names its scopes. */
  assignableScopes: string[];
  /**
   * A built-in restriction on what its holders may grant: Key Vault Data Access Administrator may
   * only assign and remove these roles (Azure expresses this as an ABAC condition).
   */
  grantableRoles?: string[];
  createdOn?: string;
  updatedOn?: string;
  createdBy?: string;
}

/** The management-plane reads every Key Vault data role includes, so its holders see the vault they work in. */
const KEY_VAULT_READS = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
  'Microsoft.KeyVault/checkNameAvailability/read',
  'Microsoft.KeyVault/deletedVaults/read',
  'Microsoft.KeyVault/locations/*/read',
  'Microsoft.KeyVault/vaults/*/read',
  'Microsoft.KeyVault/operations/read',
];

const VAULT = 'Microsoft.KeyVault/vaults/';

/** A key's six cryptographic operations, as both Key Vault's and Managed HSM's DataActions end (lib/hsm/roles.ts). */
export const KEY_CRYPTO_ACTIONS = [
  'keys/encrypt/action',
  'keys/decrypt/action',
  'keys/wrap/action',
  'keys/unwrap/action',
  'keys/sign/action',
  'keys/verify/action',
] as const;

export const roleIds = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  monitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
  keyVaultContributor: 'f25e0fa2-a7c8-4377-a976-54943a77a395',
  keyVaultPurgeOperator: 'a68e7c17-0ab2-4c09-9a58-125dae29748c',
  keyVaultDataAccessAdministrator: '8b54135c-b56d-4d72-a534-26097cfdc8d8',
  administrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  cryptoOfficer: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  cryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  cryptoServiceEncryptionUser: 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  cryptoServiceReleaseUser: '08bbd89e-9f13-488c-ac41-acfcb10c90ab',
  certificatesOfficer: 'a4417e6f-fecd-4de8-b567-7b0420556985',
  certificateUser: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
} as const;

export const builtInRoles: readonly RoleDefinition[] = [
  builtIn(roleIds.owner, 'Owner', 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.', {
    actions: ['*'],
  }),
  builtIn(roleIds.contributor, 'Contributor', 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.', {
    actions: ['*'],
    notActions: ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action'],
  }),
  builtIn(roleIds.reader, 'Reader', 'View all resources, but does not allow you to make any changes.', { actions: ['*/read'] }),
  builtIn(roleIds.userAccessAdministrator, 'User Access Administrator', 'Lets you manage user access to Azure resources.', {
    actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
  }),
  builtIn(roleIds.monitoringReader, 'Monitoring Reader', 'Can read all monitoring data.', { actions: ['*/read', 'Microsoft.Support/*'] }),
  builtIn(roleIds.keyVaultContributor, 'Key Vault Contributor', 'Lets you manage key vaults, but not access to them.', {
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
      'Microsoft.KeyVault/*',
    ],
    notActions: ['Microsoft.KeyVault/locations/deletedVaults/purge/action', 'Microsoft.KeyVault/hsmPools/*', 'Microsoft.KeyVault/managedHsms/*'],
  }),
  builtIn(roleIds.keyVaultPurgeOperator, 'Key Vault Purge Operator', 'Allows permanent deletion of soft-deleted vaults.', {
    actions: ['Microsoft.KeyVault/locations/deletedVaults/purge/action'],
  }),
  {
    ...builtIn(
      roleIds.keyVaultDataAccessAdministrator,
      'Key Vault Data Access Administrator',
      'Manage access to Azure Key Vault by adding or removing role assignments for the Key Vault data roles.',
      {
        actions: [
          'Microsoft.Authorization/roleAssignments/delete',
          'Microsoft.Authorization/roleAssignments/write',
          'Microsoft.Authorization/*/read',
          'Microsoft.Resources/deployments/*',
          'Microsoft.Resources/subscriptions/resourceGroups/read',
          'Microsoft.Resources/subscriptions/read',
          'Microsoft.Support/*',
          'Microsoft.KeyVault/vaults/*/read',
        ],
      },
    ),
    grantableRoles: [
      roleIds.administrator,
      roleIds.certificatesOfficer,
      roleIds.cryptoOfficer,
      roleIds.cryptoServiceEncryptionUser,
      roleIds.cryptoUser,
      roleIds.keyVaultReader,
      roleIds.secretsOfficer,
      roleIds.secretsUser,
    ],
  },
  dataRole(roleIds.administrator, 'Key Vault Administrator', 'Perform all data plane operations on a key vault and all objects in it.', ['*']),
  dataRole(roleIds.keyVaultReader, 'Key Vault Reader', 'Read metadata of key vaults and its certificates, keys, and secrets.', [
    '*/read',
    'secrets/readMetadata/action',
  ]),
  dataRole(roleIds.secretsOfficer, 'Key Vault Secrets Officer', 'Perform any action on the secrets of a key vault.', ['secrets/*']),
  userRole(roleIds.secretsUser, 'Key Vault Secrets User', 'Read secret contents.', ['secrets/getSecret/action', 'secrets/readMetadata/action']),
  dataRole(roleIds.cryptoOfficer, 'Key Vault Crypto Officer', 'Perform any action on the keys of a key vault.', ['keys/*', 'keyrotationpolicies/*']),
  userRole(roleIds.cryptoUser, 'Key Vault Crypto User', 'Perform cryptographic operations using keys.', [
    'keys/read',
    'keys/update/action',
    'keys/backup/action',
    ...KEY_CRYPTO_ACTIONS,
  ]),
  userRole(
    roleIds.cryptoServiceEncryptionUser,
    'Key Vault Crypto Service Encryption User',
    'Read metadata of keys and perform wrap/unwrap operations.',
    ['keys/read', 'keys/wrap/action', 'keys/unwrap/action'],
  ),
  userRole(roleIds.cryptoServiceReleaseUser, 'Key Vault Crypto Service Release User', 'Release keys.', ['keys/release/action']),
  dataRole(roleIds.certificatesOfficer, 'Key Vault Certificates Officer', 'Perform any action on the certificates of a key vault.', [
    'certificatecas/*',
    'certificates/*',
    'certificatecontacts/write',
  ]),
  userRole(roleIds.certificateUser, 'Key Vault Certificate User', 'Read entire certificate contents including secret and key portion.', [
    'certificates/read',
    'secrets/getSecret/action',
    'secrets/readMetadata/action',
    'keys/read',
  ]),
];

const builtInByName = new Map(builtInRoles.map((role) => [role.name, role]));

/** A built-in role by its GUID, any case: asked on every access decision. */
export function builtInRole(name: string): RoleDefinition | undefined {
  return builtInByName.get(name.toLowerCase());
}

function builtIn(name: string, roleName: string, description: string, permissions: Partial<RolePermissions>): RoleDefinition {
  return {
    name,
    roleName,
    description,
    roleType: 'BuiltInRole',
    permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [], ...permissions }],
    assignableScopes: ['/'],
  };
}

/** A Key Vault data role that also reads the vault on the management plane. */
function dataRole(name: string, roleName: string, description: string, dataActions: string[]): RoleDefinition {
  return builtIn(name, roleName, description, { actions: KEY_VAULT_READS, dataActions: vaultActions(dataActions) });
}

/** A Key Vault data role for workloads: data actions only. */
function userRole(name: string, roleName: string, description: string, dataActions: string[]): RoleDefinition {
  return builtIn(name, roleName, description, { dataActions: vaultActions(dataActions) });
}

function vaultActions(actions: string[]): string[] {
  return actions.map((action) => VAULT + action);
}
