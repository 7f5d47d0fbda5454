import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RoleDefinition } from '../../lib/access/roles.ts';
import { type HsmRbacStore, type HsmRoleAssignment, hsmRoleDefinitionId } from '../../lib/hsm/rbac.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';

/**
 * What every HsmRbacStore must do: test/unit/hsm-rbac-memory-store.test.ts runs these tests against
 * the in-memory store and test/integration/hsm-rbac-dynamo-store.test.ts against DynamoDB Local. Each
 * test works in pools of its own, so a shared table shows it no other test's items.
 */
export function describeHsmRbacStoreContract(label: string, store: () => HsmRbacStore): void {
  describe(`HsmRbacStore contract: ${label}`, () => {
    function subject() {
      return { store: store(), pool: `p${randomUUID().slice(0, 8)}` };
    }

    function assignment(over: Partial<HsmRoleAssignment> = {}): HsmRoleAssignment {
      return {
        name: randomUUID(),
        scope: '/keys/k1',
        roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.cryptoServiceEncryptionUser),
        principalId: randomUUID(),
        ...over,
      };
    }

    function definition(over: Partial<RoleDefinition> = {}): RoleDefinition {
      return {
        name: randomUUID(),
        roleName: 'Key reader',
        description: '',
        roleType: 'CustomRole',
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/managedHsm/keys/read/action'], notDataActions: [] }],
        assignableScopes: ['/'],
        ...over,
      };
    }

    it('creates an assignment and reads it back by name, any case, in its own pool only', async () => {
      const { store, pool } = subject();
      const created = assignment();
      expect(await store.createAssignment(pool, created)).toBe(true);
      expect(await store.getAssignment(pool, created.name)).toEqual(created);
      expect(await store.getAssignment(pool.toUpperCase(), created.name.toUpperCase())).toEqual(created);
      expect(await store.getAssignment(`${pool}x`, created.name)).toBeUndefined();
      expect(await store.getAssignment(pool, randomUUID())).toBeUndefined();
    });

    it('refuses a taken name, whatever the case, and keeps the first', async () => {
      const { store, pool } = subject();
      const first = assignment();
      await store.createAssignment(pool, first);
      const second = assignment({ name: first.name.toUpperCase() });
      expect(await store.createAssignment(pool, second)).toBe(false);
      expect(await store.assignments(pool)).toEqual([first]);
      expect(await store.assignmentsOf(pool, second.principalId)).toEqual([]);
      // The same name in another pool is another assignment.
      expect(await store.createAssignment(`${pool}x`, second)).toBe(true);
    });

    it('lets exactly one of two concurrent creations of a name win', async () => {
      const { store, pool } = subject();
      const name = randomUUID();
      const rivals = [assignment({ name }), assignment({ name })];
      const outcomes = await Promise.all(rivals.map((a) => store.createAssignment(pool, a)));
      expect([...outcomes].sort()).toEqual([false, true]);
      const winner = rivals[outcomes.indexOf(true)]!;
      expect(await store.assignments(pool)).toEqual([winner]);
    });

    it("lists a pool's assignments by name, and a principal's", async () => {
      const { store, pool } = subject();
      const principalId = randomUUID();
      const mine = [assignment({ principalId, scope: '/' }), assignment({ principalId, scope: '/keys' })];
      const other = assignment();
      for (const a of [...mine, other]) await store.createAssignment(pool, a);
      const byName = (list: HsmRoleAssignment[]) => [...list].sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(await store.assignments(pool)).toEqual(byName([...mine, other]));
      expect(await store.assignmentsOf(pool, principalId)).toEqual(byName(mine));
      expect(await store.assignmentsOf(`${pool}x`, principalId)).toEqual([]);
    });

    it('deletes an assignment from both of its listings', async () => {
      const { store, pool } = subject();
      const gone = assignment();
      const kept = assignment({ principalId: gone.principalId });
      await store.createAssignment(pool, gone);
      await store.createAssignment(pool, kept);
      await store.deleteAssignment(pool, gone);
      expect(await store.getAssignment(pool, gone.name)).toBeUndefined();
      expect(await store.assignments(pool)).toEqual([kept]);
      expect(await store.assignmentsOf(pool, gone.principalId)).toEqual([kept]);
    });

    it('puts, replaces, reads, lists and deletes custom role definitions apart from assignments', async () => {
      const { store, pool } = subject();
      const role = definition({ description: 'reads keys' });
      await store.putRoleDefinition(pool, role);
      expect(await store.getRoleDefinition(pool, role.name.toUpperCase())).toEqual(role);
      const replaced = { ...role, roleName: 'Renamed', assignableScopes: ['/keys'] };
      await store.putRoleDefinition(pool, replaced);
      await store.createAssignment(pool, assignment());
      expect(await store.roleDefinitions(pool)).toEqual([replaced]);
      expect(await store.roleDefinitions(`${pool}x`)).toEqual([]);
      await store.deleteRoleDefinition(pool, role.name);
      expect(await store.getRoleDefinition(pool, role.name)).toBeUndefined();
      expect(await store.roleDefinitions(pool)).toEqual([]);
      expect(await store.assignments(pool)).toHaveLength(1);
    });

    it("deletes everything of a pool's RBAC and nothing of another pool's", async () => {
      const { store, pool } = subject();
      const neighbour = `${pool}x`;
      const principalId = randomUUID();
      await store.createAssignment(pool, assignment({ principalId }));
      await store.createAssignment(pool, assignment());
      await store.putRoleDefinition(pool, definition());
      const kept = assignment({ principalId });
      await store.createAssignment(neighbour, kept);
      await store.deletePool(pool);
      expect(await store.assignments(pool)).toEqual([]);
      expect(await store.assignmentsOf(pool, principalId)).toEqual([]);
      expect(await store.roleDefinitions(pool)).toEqual([]);
      expect(await store.assignmentsOf(neighbour, principalId)).toEqual([kept]);
    });
  });
}
