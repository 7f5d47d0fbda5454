import { describe, expect, it } from 'vitest';
import { authorize, roleIds } from '../../lib/access/rbac.ts';
import { Forbidden } from '../../lib/core/errors.ts';

const principal = { tenantId: 't', objectId: 'oid-1', appId: 'app-1', issuer: 'https://issuer' };
const request = (dataAction: string, scope = '/') => ({ principal, dataAction, scope, vaultName: 'v', region: 'local' });

describe('RBAC', () => {
  it('denies everything without an assignment, with the action in the message', () => {
    try {
      authorize([], request('secrets/getSecret/action'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(Forbidden);
      expect((error as Forbidden).innerCode).toBe('ForbiddenByRbac');
      expect((error as Forbidden).message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    }
  });

  it('grants what the built-in role grants and nothing more', () => {
    const user = [{ id: 'a', principalId: 'oid-1', roleDefinitionId: roleIds.secretsUser, scope: '/' }];
    expect(authorize(user, request('secrets/getSecret/action')).id).toBe('a');
    expect(() => authorize(user, request('secrets/setSecret/action'))).toThrow(Forbidden);
    const officer = [{ id: 'b', principalId: 'oid-1', roleDefinitionId: roleIds.secretsOfficer, scope: '/' }];
    expect(authorize(officer, request('secrets/purge/action')).id).toBe('b');
    expect(() => authorize(officer, request('keys/sign/action'))).toThrow(Forbidden);
  });

  it('limits an object-scoped assignment to that object', () => {
    const scoped = [{ id: 'c', principalId: 'oid-1', roleDefinitionId: roleIds.secretsUser, scope: '/secrets/app-db' }];
    expect(authorize(scoped, request('secrets/getSecret/action', '/secrets/APP-DB')).id).toBe('c');
    expect(() => authorize(scoped, request('secrets/getSecret/action', '/secrets/other'))).toThrow(Forbidden);
  });

  it('ignores assignments of other principals', () => {
    const other = [{ id: 'd', principalId: 'oid-2', roleDefinitionId: roleIds.administrator, scope: '/' }];
    expect(() => authorize(other, request('secrets/getSecret/action'))).toThrow(Forbidden);
  });
});
