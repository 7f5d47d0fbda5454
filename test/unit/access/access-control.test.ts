import { describe, expect, it } from 'vitest';
import { AccessControl, type DataAccessRequest } from '../../../lib/access/access-control.ts';
import type { AccessPolicyEntry } from '../../../lib/access/access-policies.ts';
import type { RoleAssignment } from '../../../lib/access/assignments.ts';
import { roleIds } from '../../../lib/access/roles.ts';
import { objectScope, resourceGroupScope, scopeCovers, subscriptionScope, vaultScope } from '../../../lib/access/scopes.ts';
import { Forbidden } from '../../../lib/core/errors.ts';
import { assignment, assignmentsStore, principal, SUBSCRIPTION, vault } from '../http/stubs.ts';

const v = vault();
const secret = (name: string) => objectScope(v, 'secrets', name);

function decide(assignments: RoleAssignment[], dataAction: string, scope: string, overrides: Partial<DataAccessRequest> = {}) {
  const access = new AccessControl(assignmentsStore(assignments), { tenantAdministrators: [] });
  return access.authorizeData({ vault: v, principal, dataAction, policy: undefined, scope, region: 'test-region', ...overrides });
}

describe('RBAC decisions on the data plane', () => {
  it('denies everything without an assignment, naming the action, the resource and the vault', async () => {
    const error = await decide([], 'secrets/getSecret/action', secret('db')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Forbidden);
    expect((error as Forbidden).innerCode).toBe('ForbiddenByRbac');
    expect((error as Forbidden).message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    expect((error as Forbidden).message).toContain(`Resource: '${secret('db').toLowerCase()}'`);
    expect((error as Forbidden).message).toContain('Vault: vault1;location=test-region');
  });

  it('grants what the built-in role grants and nothing more', async () => {
    const user = [assignment(roleIds.secretsUser)];
    await expect(decide(user, 'secrets/getSecret/action', secret('db'))).resolves.toBeUndefined();
    await expect(decide(user, 'secrets/setSecret/action', secret('db'))).rejects.toThrow(Forbidden);
    const officer = [assignment(roleIds.secretsOfficer)];
    await expect(decide(officer, 'secrets/purge/action', secret('db'))).resolves.toBeUndefined();
    await expect(decide(officer, 'keys/sign/action', objectScope(v, 'keys', 'k'))).rejects.toThrow(Forbidden);
    // Contributor manages vaults but reads no data.
    await expect(
      decide([assignment(roleIds.contributor, subscriptionScope(SUBSCRIPTION))], 'secrets/getSecret/action', secret('db')),
    ).rejects.toThrow(Forbidden);
  });

  it('limits an object-scoped assignment to that object, case-insensitively', async () => {
    const scoped = [assignment(roleIds.secretsUser, secret('app-db'))];
    await expect(decide(scoped, 'secrets/getSecret/action', secret('APP-DB'))).resolves.toBeUndefined();
    await expect(decide(scoped, 'secrets/getSecret/action', secret('other'))).rejects.toThrow(Forbidden);
    await expect(decide(scoped, 'secrets/getSecret/action', secret('app-db-2'))).rejects.toThrow(Forbidden);
  });

  it('lets an assignment at the subscription or resource group cover the vault, and not a sibling group', async () => {
    await expect(
      decide([assignment(roleIds.administrator, subscriptionScope(SUBSCRIPTION))], 'keys/sign/action', vaultScope(v)),
    ).resolves.toBeUndefined();
    await expect(
      decide([assignment(roleIds.administrator, resourceGroupScope(SUBSCRIPTION, 'RG1'))], 'keys/sign/action', vaultScope(v)),
    ).resolves.toBeUndefined();
    expect(scopeCovers(resourceGroupScope(SUBSCRIPTION, 'rg'), vaultScope(v))).toBe(false);
    await expect(
      decide([assignment(roleIds.administrator, resourceGroupScope(SUBSCRIPTION, 'rg'))], 'keys/sign/action', vaultScope(v)),
    ).rejects.toThrow(Forbidden);
  });

  it('ignores assignments of other principals', async () => {
    await expect(decide([assignment(roleIds.administrator, vaultScope(v), 'oid-2')], 'secrets/getSecret/action', secret('db'))).rejects.toThrow(
      Forbidden,
    );
  });

  it('sees a revocation once the cached decision inputs expire', async () => {
    const assignments = [assignment(roleIds.secretsUser)];
    const access = new AccessControl(assignmentsStore(assignments), { tenantAdministrators: [], ttlMs: 1 });
    const request = { vault: v, principal, dataAction: 'secrets/getSecret/action', policy: undefined, scope: secret('db'), region: 'r' };
    await expect(access.authorizeData(request)).resolves.toBeUndefined();
    assignments.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(access.authorizeData(request)).rejects.toThrow(Forbidden);
  });
});

describe('access-policy vaults', () => {
  const entry = (permissions: AccessPolicyEntry['permissions'], applicationId?: string): AccessPolicyEntry => ({
    tenantId: 'tenant-1',
    objectId: principal.objectId,
    ...(applicationId ? { applicationId } : {}),
    permissions,
  });
  const policyVault = (entries: AccessPolicyEntry[]) => ({ ...v, enableRbacAuthorization: false, accessPolicies: entries });

  it("grants by the entry's permissions, ignores role assignments, and words the refusal as Key Vault does", async () => {
    const vaultWithPolicy = policyVault([entry({ secrets: ['Get', 'list'] })]);
    await expect(
      decide([], 'secrets/getSecret/action', secret('db'), { vault: vaultWithPolicy, policy: { kind: 'secrets', permission: 'get' } }),
    ).resolves.toBeUndefined();
    const refusal = await decide([assignment(roleIds.administrator)], 'secrets/setSecret/action', secret('db'), {
      vault: vaultWithPolicy,
      policy: { kind: 'secrets', permission: 'set' },
    }).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ status: 403, code: 'Forbidden', innerCode: 'AccessDenied' });
    expect((refusal as Error).message).toContain('does not have secrets set permission on key vault');
  });

  it("grants everything of a kind with 'all', and a compound entry only to its application", async () => {
    await expect(
      decide([], 'keys/sign/action', vaultScope(v), { vault: policyVault([entry({ keys: ['all'] })]), policy: { kind: 'keys', permission: 'sign' } }),
    ).resolves.toBeUndefined();
    const compound = policyVault([entry({ secrets: ['get'] }, '11111111-1111-1111-1111-111111111111')]);
    await expect(
      decide([], 'secrets/getSecret/action', secret('db'), { vault: compound, policy: { kind: 'secrets', permission: 'get' } }),
    ).rejects.toThrow(Forbidden);
    await expect(
      decide([], 'secrets/getSecret/action', secret('db'), {
        vault: compound,
        principal: { ...principal, appId: '11111111-1111-1111-1111-111111111111' },
        policy: { kind: 'secrets', permission: 'get' },
      }),
    ).resolves.toBeUndefined();
  });
});

describe('management decisions', () => {
  it('lets tenant administrators manage, and Contributor manage vaults but not grant roles', async () => {
    const admin = new AccessControl(assignmentsStore([]), { tenantAdministrators: [{ tenantId: 'TENANT-1', objectId: principal.objectId }] });
    await expect(admin.authorizeControl(principal, 'Microsoft.Authorization/roleAssignments/write', vaultScope(v))).resolves.toBe(
      'tenantAdministrator',
    );
    const contributor = new AccessControl(assignmentsStore([assignment(roleIds.contributor, subscriptionScope(SUBSCRIPTION))]), {
      tenantAdministrators: [],
    });
    await expect(contributor.authorizeControl(principal, 'Microsoft.KeyVault/vaults/write', vaultScope(v))).resolves.toMatchObject({
      definition: { roleName: 'Contributor' },
    });
    await expect(contributor.authorizeControl(principal, 'Microsoft.Authorization/roleAssignments/write', vaultScope(v))).rejects.toMatchObject({
      status: 403,
      code: 'AuthorizationFailed',
    });
    const purge = 'Microsoft.KeyVault/locations/deletedVaults/purge/action';
    const kvContributor = new AccessControl(assignmentsStore([assignment(roleIds.keyVaultContributor, subscriptionScope(SUBSCRIPTION))]), {
      tenantAdministrators: [],
    });
    await expect(kvContributor.authorizeControl(principal, purge, subscriptionScope(SUBSCRIPTION))).rejects.toMatchObject({ status: 403 });
  });
});
