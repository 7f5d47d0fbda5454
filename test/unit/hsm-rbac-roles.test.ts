import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../lib/auth/principal.ts';
import { HsmRbac, hsmKeyScope, hsmRoleDefinitionId } from '../../lib/hsm/rbac.ts';
import { MemoryHsmRbacStore } from '../../lib/hsm/rbac-memory-store.ts';
import { HSM_DATA_ACTIONS, type HsmDataAction, hsmBuiltInRoles, hsmRoleIds } from '../../lib/hsm/roles.ts';

/**
 * The built-in Managed HSM roles, decided: every role against a representative DataAction of each
 * group. The expected table is written out here, not derived from lib/hsm/roles.ts, so a wrong
 * definition fails it. Key actions are asked at one key's scope, the others at `/`.
 */
const columns: [string, HsmDataAction][] = [
  ['create', 'keys/create'],
  ['read', 'keys/read/action'],
  ['delete', 'keys/delete'],
  ['sign', 'keys/sign/action'],
  ['wrap', 'keys/wrap/action'],
  ['recover', 'keys/deletedKeys/recover/action'],
  ['purge', 'keys/deletedKeys/delete'],
  ['export', 'keys/export/action'],
  ['release', 'keys/release/action'],
  ['keyBackup', 'keys/backup/action'],
  ['backup', 'backup/start/action'],
  ['restore', 'restore/start/action'],
  ['domain', 'securitydomain/download/action'],
  ['grant', 'roleAssignments/write/action'],
  ['readRoles', 'roleAssignments/read/action'],
  ['rng', 'rng/action'],
];

const matrix = `
role                         create read delete sign wrap recover purge export release keyBackup backup restore domain grant readRoles rng
administrator                N      N    N      N    N    N       N     N      N       N         Y      Y       Y      Y     Y         N
cryptoOfficer                N      N    N      N    N    Y       Y     Y      N       N         N      N       N      Y     Y         N
cryptoUser                   Y      Y    Y      Y    Y    N       N     N      Y       Y         N      N       N      N     Y         Y
policyAdministrator          N      N    N      N    N    N       N     N      N       N         N      N       N      Y     Y         N
cryptoAuditor                N      Y    N      N    N    N       N     N      N       N         N      N       N      N     Y         N
cryptoServiceEncryptionUser  N      Y    N      N    Y    N       N     N      N       N         N      N       N      N     N         N
cryptoServiceReleaseUser     N      N    N      N    N    N       N     N      Y       N         N      N       N      N     N         N
backup                       N      N    N      N    N    N       N     N      N       Y         Y      N       N      N     N         N
restore                      N      N    N      N    N    N       N     N      N       N         N      Y       N      N     N         N
`;
const [header, ...rows] = matrix
  .trim()
  .split('\n')
  .map((line) => line.trim().split(/\s+/));

const POOL = 'pool1';

function principal(): Principal {
  return { tenantId: randomUUID(), objectId: randomUUID(), issuer: 'https://idp.localhost/t' };
}

async function holderOf(role: string, scope = '/') {
  const store = new MemoryHsmRbacStore();
  const who = principal();
  await store.createAssignment(POOL, { name: randomUUID(), scope, roleDefinitionId: hsmRoleDefinitionId(role), principalId: who.objectId });
  return { rbac: new HsmRbac(store), who };
}

async function allowed(rbac: HsmRbac, who: Principal, action: HsmDataAction): Promise<boolean> {
  const scope = action.startsWith('keys/') ? hsmKeyScope('k1') : '/';
  try {
    await rbac.authorize(POOL, who, action, scope);
    return true;
  } catch (error) {
    expect(error).toMatchObject({ status: 403, code: 'AccessDenied' });
    return false;
  }
}

describe('Managed HSM built-in roles', () => {
  it('has a row for every built-in role and a column for every action the matrix asks', () => {
    expect(header).toEqual(['role', ...columns.map(([label]) => label)]);
    expect(rows.map(([role]) => role).sort()).toEqual(Object.keys(hsmRoleIds).sort());
  });

  for (const [role, ...cells] of rows) {
    it(`${role} holds exactly its row of the matrix`, async () => {
      const { rbac, who } = await holderOf(hsmRoleIds[role as keyof typeof hsmRoleIds]);
      const answers: Record<string, string> = {};
      for (const [label, action] of columns) answers[label] = (await allowed(rbac, who, action)) ? 'Y' : 'N';
      expect(answers).toEqual(Object.fromEntries(cells.map((cell, i) => [columns[i]![0], cell])));
    });
  }

  it('has the nine roles with the GUIDs and names Managed HSM gives them, assignable at / and with no management actions', () => {
    expect(hsmBuiltInRoles.map((r) => [r.name, r.roleName])).toEqual([
      ['a290e904-7015-4bba-90c8-60543313cdb4', 'Managed HSM Administrator'],
      ['515eb02d-2335-4d2d-92f2-b1cbdf9c3778', 'Managed HSM Crypto Officer'],
      ['21dbd100-6940-42c2-9190-5d6cb909625b', 'Managed HSM Crypto User'],
      ['4bd23610-cdcf-4971-bdee-bdc562cc28e4', 'Managed HSM Policy Administrator'],
      ['2c18b078-7c48-4d3a-af88-5a3a1b3f82b3', 'Managed HSM Crypto Auditor'],
      ['33413926-3206-4cdd-b39a-83574fe37a17', 'Managed HSM Crypto Service Encryption User'],
      ['21dbd100-6940-42c2-9190-5d6cb909625c', 'Managed HSM Crypto Service Release User'],
      ['7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8', 'Managed HSM Backup User'],
      ['6efe6056-5259-49d2-8b3d-d3d73544b20b', 'Managed HSM Restore'],
    ]);
    for (const role of hsmBuiltInRoles) {
      expect(role.assignableScopes).toEqual(['/']);
      expect(role.permissions).toHaveLength(1);
      expect(role.permissions[0]).toMatchObject({ actions: [], notActions: [], notDataActions: [] });
      // Every DataAction a built-in role names is one the pool knows, spelled as the SDK's enum spells it.
      for (const action of role.permissions[0]!.dataActions)
        expect(HSM_DATA_ACTIONS.map((a) => `Microsoft.KeyVault/managedHsm/${a}`)).toContain(action);
    }
  });

  it('lets a Crypto User create and use keys but neither purge, recover nor export them; a Crypto Officer recovers what it deleted', async () => {
    const user = await holderOf(hsmRoleIds.cryptoUser);
    for (const action of [
      'keys/create',
      'keys/delete',
      'keys/encrypt/action',
      'keys/decrypt/action',
      'keys/sign/action',
      'keys/verify/action',
    ] as const) {
      expect(await allowed(user.rbac, user.who, action)).toBe(true);
    }
    for (const action of [
      'keys/deletedKeys/delete',
      'keys/deletedKeys/recover/action',
      'keys/deletedKeys/read/action',
      'keys/export/action',
    ] as const) {
      expect(await allowed(user.rbac, user.who, action)).toBe(false);
    }
    const officer = await holderOf(hsmRoleIds.cryptoOfficer);
    expect(await allowed(officer.rbac, officer.who, 'keys/deletedKeys/recover/action')).toBe(true);
  });

  it('lets the Administrator manage the security domain, backups, settings and roles, and perform no key operation', async () => {
    const { rbac, who } = await holderOf(hsmRoleIds.administrator);
    for (const action of HSM_DATA_ACTIONS) {
      const isKeyOperation = action.startsWith('keys/') || action === 'rng/action';
      expect([action, await allowed(rbac, who, action)]).toEqual([action, !isKeyOperation]);
    }
  });

  it('lets a Crypto Service Encryption User read, wrap and unwrap, and nothing else', async () => {
    const { rbac, who } = await holderOf(hsmRoleIds.cryptoServiceEncryptionUser);
    const granted: string[] = [];
    for (const action of HSM_DATA_ACTIONS) if (await allowed(rbac, who, action)) granted.push(action);
    expect(granted).toEqual(['keys/read/action', 'keys/wrap/action', 'keys/unwrap/action']);
  });
});
