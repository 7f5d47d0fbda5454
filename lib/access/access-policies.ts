import * as z from 'zod/mini';

/**
 * Key Vault's legacy access policies (reference §6): per principal, per object kind, a list of
 * permission names. A vault uses them when `enableRbacAuthorization` is false. Names compare
 * case-insensitively; `all` grants every permission of its kind.
 */
export const ACCESS_POLICY_PERMISSIONS = {
  keys: [
    'all',
    'get',
    'list',
    'update',
    'create',
    'import',
    'delete',
    'recover',
    'backup',
    'restore',
    'purge',
    'encrypt',
    'decrypt',
    'wrapKey',
    'unwrapKey',
    'sign',
    'verify',
    'release',
    'rotate',
    'getrotationpolicy',
    'setrotationpolicy',
  ],
  secrets: ['all', 'get', 'list', 'set', 'delete', 'recover', 'backup', 'restore', 'purge'],
  certificates: [
    'all',
    'get',
    'list',
    'create',
    'import',
    'update',
    'delete',
    'recover',
    'backup',
    'restore',
    'purge',
    'managecontacts',
    'getissuers',
    'listissuers',
    'setissuers',
    'deleteissuers',
    'manageissuers',
  ],
  storage: [
    'all',
    'get',
    'list',
    'delete',
    'set',
    'update',
    'regeneratekey',
    'recover',
    'purge',
    'backup',
    'restore',
    'setsas',
    'listsas',
    'getsas',
    'deletesas',
  ],
} as const;

export type AccessPolicyKind = keyof typeof ACCESS_POLICY_PERMISSIONS;

/** At most this many entries per vault, as in Key Vault. */
export const MAX_ACCESS_POLICIES = 1024;

function permissionList(kind: AccessPolicyKind) {
  const allowed = new Set<string>(ACCESS_POLICY_PERMISSIONS[kind].map((p) => p.toLowerCase()));
  return z.optional(
    z.array(z.string().check(z.refine((p) => allowed.has(p.toLowerCase()), { message: `not a ${kind} permission` }))).check(z.maxLength(64)),
  );
}

/** One entry, as the management API's `properties.accessPolicies[]` carries it. */
export const accessPolicyEntrySchema = z.object({
  tenantId: z.string().check(z.regex(/^[0-9a-fA-F-]{36}$/)),
  objectId: z.string().check(z.minLength(1), z.maxLength(128)),
  applicationId: z.optional(z.string().check(z.regex(/^[0-9a-fA-F-]{36}$/))),
  permissions: z.object({
    keys: permissionList('keys'),
    secrets: permissionList('secrets'),
    certificates: permissionList('certificates'),
    storage: permissionList('storage'),
  }),
});

export type AccessPolicyEntry = z.infer<typeof accessPolicyEntrySchema>;

/** What a data-plane operation needs in an access-policy vault, e.g. `secrets/get`; none for what no policy grants. */
export interface PolicyRequirement {
  kind: AccessPolicyKind;
  permission: string;
}

export function parsePolicyRequirement(text: string): PolicyRequirement {
  const [kind, permission] = text.split('/') as [AccessPolicyKind, string];
  if (!(kind in ACCESS_POLICY_PERMISSIONS) || !permission) throw new Error(`not an access-policy permission: ${text}`);
  return { kind, permission };
}

/**
 * Whether an entry applying to the caller grants the permission. An entry with an application id is a
 * compound identity: it applies only to that application acting for that principal.
 */
export function policyGrants(
  entries: readonly AccessPolicyEntry[],
  caller: { tenantId: string; objectId: string; appId?: string },
  requirement: PolicyRequirement,
): AccessPolicyEntry | undefined {
  const wanted = requirement.permission.toLowerCase();
  return entries.find((entry) => {
    if (entry.tenantId.toLowerCase() !== caller.tenantId.toLowerCase()) return false;
    if (entry.objectId.toLowerCase() !== caller.objectId.toLowerCase()) return false;
    if (entry.applicationId && entry.applicationId.toLowerCase() !== caller.appId?.toLowerCase()) return false;
    const held = (entry.permissions[requirement.kind] ?? []).map((p) => p.toLowerCase());
    return held.includes('all') || held.includes(wanted);
  });
}

/** The same principal (and application) names one entry: `add` merges into it, `remove` takes permissions out of it. */
export function sameIdentity(a: AccessPolicyEntry, b: AccessPolicyEntry): boolean {
  return (
    a.tenantId.toLowerCase() === b.tenantId.toLowerCase() &&
    a.objectId.toLowerCase() === b.objectId.toLowerCase() &&
    (a.applicationId ?? '').toLowerCase() === (b.applicationId ?? '').toLowerCase()
  );
}
