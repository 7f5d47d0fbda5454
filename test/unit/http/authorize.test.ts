import { describe, expect, it } from 'vitest';
import { roleIds } from '../../../lib/access/rbac.ts';
import { type AuthorizationCheck, authorize, roleAssignments, scopeOf } from '../../../lib/http/middleware/authorize.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import { principal, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('authorize middleware', () => {
  it("checks the route's permission at the object the path names, or at the vault", async () => {
    const checks: AuthorizationCheck[] = [];
    const record = (check: AuthorizationCheck) => void checks.push(check);
    const seed = { vault: vault(), principal };
    await runMiddleware([authorize(() => stubServices(), record)], request('GET', '/deletedsecrets/db'), { ...seed, operation: 'GetDeletedSecret' });
    await runMiddleware([authorize(() => stubServices(), record)], request('GET', '/secrets'), { ...seed, operation: 'GetSecrets' });
    await runMiddleware([authorize(() => stubServices(), record)], request('POST', '/keys/restore'), { ...seed, operation: 'RestoreKey' });
    expect(checks.map((c) => [c.permission, c.scope])).toEqual([
      ['secrets/readMetadata/action', '/secrets/db'],
      ['secrets/readMetadata/action', '/'],
      ['keys/restore/action', '/'],
    ]);
    expect(checks[0]).toMatchObject({ vault: vault(), principal, region: 'test-region' });
  });

  it('scopes an object route without a name to the vault', () => {
    expect(scopeOf(routeFor('GetSecret'), { name: 'a' })).toBe('/secrets/a');
    expect(scopeOf(routeFor('GetSecret'), {})).toBe('/');
    expect(scopeOf(routeFor('GetRandomBytes'), {})).toBe('/');
  });

  it("refuses with Azure's ForbiddenByRbac when no role assignment grants the DataAction", async () => {
    const readerOnly = vault({
      roleAssignments: [{ id: 'r', principalId: principal.objectId, roleDefinitionId: roleIds.secretsUser, scope: '/secrets/other' }],
    });
    const run = runMiddleware([authorize(() => stubServices(), roleAssignments)], request('GET', '/secrets/db'), {
      vault: readerOnly,
      principal,
      operation: 'GetSecret',
    });
    await expect(run).rejects.toMatchObject({ status: 403, innerCode: 'ForbiddenByRbac' });
    const allowed = vault({
      roleAssignments: [{ id: 'r', principalId: principal.objectId, roleDefinitionId: roleIds.secretsUser, scope: '/secrets/db' }],
    });
    await expect(
      runMiddleware([authorize(() => stubServices(), roleAssignments)], request('GET', '/secrets/db'), {
        vault: allowed,
        principal,
        operation: 'GetSecret',
      }),
    ).resolves.toBeDefined();
  });
});
