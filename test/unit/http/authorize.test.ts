import { describe, expect, it } from 'vitest';
import type { DataAccessRequest } from '../../../lib/access/access-control.ts';
import { roleIds } from '../../../lib/access/roles.ts';
import { vaultScope } from '../../../lib/access/scopes.ts';
import { authorize, managementActions, vaultPermissionModel } from '../../../lib/http/middleware/authorize.ts';
import { managementScopeOf } from '../../../lib/http/management-scope.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import type { PipelineServices } from '../../../lib/http/services.ts';
import { assignment, principal, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('authorize middleware', () => {
  it("checks the route's permission at the object the path names, or at the vault", async () => {
    const checks: DataAccessRequest[] = [];
    const services: PipelineServices = {
      ...stubServices(),
      access: { authorizeData: async (check) => void checks.push(check), authorizeControl: async () => 'tenantAdministrator' },
    };
    const seed = { vault: vault(), principal };
    const run = (method: string, url: string, operation: 'GetDeletedSecret' | 'GetSecrets' | 'RestoreKey' | 'GetSecret', params = {}) =>
      runMiddleware([authorize(() => services, vaultPermissionModel)], { ...request(method, url), pathParameters: params }, { ...seed, operation });
    await run('GET', '/deletedsecrets/db', 'GetDeletedSecret', { name: 'db' });
    await run('GET', '/secrets', 'GetSecrets');
    await run('POST', '/keys/restore', 'RestoreKey');
    await run('GET', '/secrets/', 'GetSecret', {});
    const vaultId = vaultScope(vault());
    expect(checks.map((c) => [c.dataAction, c.scope, c.policy])).toEqual([
      ['secrets/readMetadata/action', `${vaultId}/secrets/db`, { kind: 'secrets', permission: 'get' }],
      ['secrets/readMetadata/action', vaultId, { kind: 'secrets', permission: 'list' }],
      ['keys/restore/action', vaultId, { kind: 'keys', permission: 'restore' }],
      ['secrets/getSecret/action', vaultId, { kind: 'secrets', permission: 'get' }],
    ]);
    expect(checks[0]).toMatchObject({ vault: vault(), principal, region: 'test-region' });
  });

  it("refuses with Azure's ForbiddenByRbac when no role assignment grants the DataAction, and allows what one does", async () => {
    const otherSecret = assignment(roleIds.secretsUser, `${vaultScope(vault())}/secrets/other`);
    const event = { ...request('GET', '/secrets/db'), pathParameters: { name: 'db' } };
    const refused = runMiddleware([authorize(() => stubServices({ assignments: [otherSecret] }), vaultPermissionModel)], event, {
      vault: vault(),
      principal,
      operation: 'GetSecret',
    });
    await expect(refused).rejects.toMatchObject({ status: 403, innerCode: 'ForbiddenByRbac' });
    const thisSecret = assignment(roleIds.secretsUser, `${vaultScope(vault())}/secrets/DB`);
    await expect(
      runMiddleware([authorize(() => stubServices({ assignments: [thisSecret] }), vaultPermissionModel)], event, {
        vault: vault(),
        principal,
        operation: 'GetSecret',
      }),
    ).resolves.toBeDefined();
  });

  it('refuses every data-plane request to a vault closed to public networks, whatever the roles', async () => {
    const closed = vault({ publicNetworkAccess: 'Disabled' });
    const event = { ...request('GET', '/secrets/db'), pathParameters: { name: 'db' } };
    await expect(
      runMiddleware([authorize(() => stubServices({ vault: closed }), vaultPermissionModel)], event, {
        vault: closed,
        principal,
        operation: 'GetSecret',
      }),
    ).rejects.toMatchObject({ status: 403, innerCode: 'ForbiddenByConnection' });
  });

  it('takes the scope of a role-assignment path before its provider, with a doubled leading slash read as one', () => {
    const scope = `/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg1`;
    const path = `/${scope}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111`;
    expect(managementScopeOf(routeFor('CreateRoleAssignment'), path, {})).toBe(scope);
    expect(managementScopeOf(routeFor('CreateRoleAssignment'), path.slice(1), {})).toBe(scope);
  });

  it('decides management routes by ARM Actions at the scope the path names', async () => {
    const contributor = assignment(roleIds.contributor, '/subscriptions/00000000-0000-0000-0000-00000000000a');
    const services = () => stubServices({ assignments: [contributor] });
    const scope = `${vaultScope(vault())}`;
    await expect(
      runMiddleware([authorize(services, managementActions)], request('GET', '/secrets'), {
        principal,
        operation: 'GetVault',
        managementScope: scope,
      }),
    ).resolves.toBeDefined();
    await expect(
      runMiddleware([authorize(services, managementActions)], request('GET', '/secrets'), {
        principal,
        operation: 'CreateRoleAssignment',
        managementScope: scope,
      }),
    ).rejects.toMatchObject({ status: 403, code: 'AuthorizationFailed' });
  });
});
