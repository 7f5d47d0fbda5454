import { Forbidden } from '../core/errors.ts';
import type { Principal } from '../auth/principal.ts';

/**
 * Azure RBAC for the vault data plane (reference §6): built-in roles grant DataActions; a role
 * assignment gives a principal a role at the vault (`/`) or at one object (`/secrets/<name>`).
 * Deny unless an assignment grants the action.
 */
export interface RoleAssignment {
  /** A GUID, as Azure names assignments. */
  id: string;
  principalId: string;
  roleDefinitionId: string;
  /** `/` for the whole vault, or `/{secrets|keys|certificates}/<name>`. */
  scope: string;
}

export interface RoleDefinition {
  id: string;
  roleName: string;
  dataActions: string[];
  notDataActions: string[];
}

const PREFIX = 'Microsoft.KeyVault/vaults/';

/** @public: the management plane lists these as the vault's role definitions; today authorize() reads them. */
export const builtInRoles: readonly RoleDefinition[] = [
  role('00482a5a-887f-4fb3-b363-3b7fe8e74483', 'Key Vault Administrator', ['*']),
  role('21090545-7ca7-4776-b22c-e363652d74d2', 'Key Vault Reader', ['*/read', 'secrets/readMetadata/action']),
  role('b86a8fe4-44ce-4948-aee5-eccb2c155cd7', 'Key Vault Secrets Officer', ['secrets/*']),
  role('4633458b-17de-408a-b874-0445c86b69e6', 'Key Vault Secrets User', ['secrets/getSecret/action', 'secrets/readMetadata/action']),
  role('14b46e9e-c2b7-41b4-b07b-48a6ebf60603', 'Key Vault Crypto Officer', ['keys/*', 'keyrotationpolicies/*']),
  role('12338af0-0e69-4776-bea7-57ae8d297424', 'Key Vault Crypto User', [
    'keys/read',
    'keys/update/action',
    'keys/backup/action',
    'keys/encrypt/action',
    'keys/decrypt/action',
    'keys/wrap/action',
    'keys/unwrap/action',
    'keys/sign/action',
    'keys/verify/action',
  ]),
  role('e147488a-f6f5-4113-8e2d-b22465e65bf6', 'Key Vault Crypto Service Encryption User', ['keys/read', 'keys/wrap/action', 'keys/unwrap/action']),
  role('08bbd89e-9f13-488c-ac41-acfcb10c90ab', 'Key Vault Crypto Service Release User', ['keys/release/action']),
  role('a4417e6f-fecd-4de8-b567-7b0420556985', 'Key Vault Certificates Officer', ['certificatecas/*', 'certificates/*', 'certificatecontacts/write']),
  role('db79e9a7-68ee-4b58-9aeb-b90e7c24fcba', 'Key Vault Certificate User', [
    'certificates/read',
    'secrets/getSecret/action',
    'secrets/readMetadata/action',
    'keys/read',
  ]),
];

export const roleIds = {
  administrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  reader: '21090545-7ca7-4776-b22c-e363652d74d2',
} as const;

function role(id: string, roleName: string, actions: string[]): RoleDefinition {
  return { id, roleName, dataActions: actions.map((a) => PREFIX + a), notDataActions: [] };
}

/** Azure's wildcard semantics: `*` matches any run of characters, including `/`. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`, 'i');
  return regex.test(action);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function scopeCovers(assignmentScope: string, objectScope: string): boolean {
  if (assignmentScope === '/') return true;
  return assignmentScope.toLowerCase() === objectScope.toLowerCase();
}

export interface AuthorizationRequest {
  principal: Principal;
  /** Without the `Microsoft.KeyVault/vaults/` prefix, as the route table names it. */
  dataAction: string;
  /** `/` or `/<collection>/<name>`. */
  scope: string;
  vaultName: string;
  region: string;
}

/** Returns the assignment that grants the action, or throws Azure's ForbiddenByRbac. */
export function authorize(assignments: readonly RoleAssignment[], request: AuthorizationRequest): RoleAssignment {
  const action = PREFIX + request.dataAction;
  for (const assignment of assignments) {
    if (assignment.principalId.toLowerCase() !== request.principal.objectId.toLowerCase()) continue;
    if (!scopeCovers(assignment.scope, request.scope)) continue;
    const definition = builtInRoles.find((r) => r.id === assignment.roleDefinitionId);
    if (!definition) continue;
    const granted = definition.dataActions.some((p) => actionMatches(p, action));
    const denied = definition.notDataActions.some((p) => actionMatches(p, action));
    if (granted && !denied) return assignment;
  }
  const caller = `appid=${request.principal.appId ?? ''};oid=${request.principal.objectId};iss=${request.principal.issuer}`;
  throw new Forbidden(
    [
      'Caller is not authorized to perform action on resource.',
      'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
      `Caller: ${caller}`,
      `Action: '${action}'`,
      `Resource: '${request.scope === '/' ? `/vaults/${request.vaultName}` : `/vaults/${request.vaultName}${request.scope}`}'`,
      'Assignment: (not found)',
      "DecisionReason: 'DeniedWithNoValidRBAC'",
      `Vault: ${request.vaultName};location=${request.region}`,
    ].join('\r\n'),
    'ForbiddenByRbac',
  );
}
