import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AccessStore, type RoleAssignment, roleDefinitionId } from '../../lib/access/assignments.ts';
import { type RoleDefinition, roleIds } from '../../lib/access/roles.ts';

/**
 * What every AccessStore must do: test/unit/access-memory-store.test.ts runs these tests against the
 * in-memory store and test/integration/access-dynamo-store.test.ts against DynamoDB Local. Every test
 * works in a subscription of its own, so a shared table shows it no other test's assignments.
 */
export function describeAccessStoreContract(label: string, store: () => AccessStore): void {
  describe(`AccessStore contract: ${label}`, () => {
    function subject() {
      const subscription = randomUUID();
      const base = `/subscriptions/${subscription}`;
      return { store: store(), subscription, base, tenant: randomUUID() };
    }

    function assignment(base: string, tenant: string, over: Partial<RoleAssignment> = {}): RoleAssignment {
      const subscription = base.split('/')[2]!;
      return {
        name: randomUUID(),
        scope: base,
        roleDefinitionId: roleDefinitionId(subscription, roleIds.secretsUser),
        principalId: randomUUID(),
        principalType: 'ServicePrincipal',
        tenantId: tenant,
        createdOn: '2026-12-01T00:00:00.000Z',
        updatedOn: '2026-12-01T00:00:00.000Z',
        createdBy: 'creator',
        updatedBy: 'creator',
        ...over,
      };
    }

    it('creates an assignment and reads it back by name, case-insensitively', async () => {
      const { store, base, tenant } = subject();
      const created = assignment(base, tenant, { description: 'for the app', condition: undefined });
      expect(await store.createAssignment(created)).toBe('created');
      expect(await store.getAssignment(created.name)).toEqual({ ...created, condition: undefined });
      expect(await store.getAssignment(created.name.toUpperCase())).toMatchObject({ name: created.name, description: 'for the app' });
      expect(await store.getAssignment(randomUUID())).toBeUndefined();
    });

    it('refuses a taken name and a duplicate (scope, principal, role), whatever the case, and keeps the first', async () => {
      const { store, base, tenant } = subject();
      const first = assignment(base, tenant);
      await store.createAssignment(first);
      expect(await store.createAssignment(assignment(base, tenant, { name: first.name.toUpperCase() }))).toBe('nameTaken');
      const duplicate = assignment(base.toUpperCase(), tenant, { principalId: first.principalId.toUpperCase() });
      expect(await store.createAssignment(duplicate)).toBe('duplicate');
      expect(await store.getAssignment(duplicate.name)).toBeUndefined();
      expect(await store.assignmentsUnder(base)).toEqual([first]);
      // Another role for the same principal and scope is no duplicate.
      const other = assignment(base, tenant, { principalId: first.principalId, roleDefinitionId: roleDefinitionId('x', roleIds.keyVaultReader) });
      expect(await store.createAssignment(other)).toBe('created');
    });

    it('lists the assignments at and below a scope, segment-wise, not those above or beside it', async () => {
      const { store, base, tenant } = subject();
      const group = `${base}/resourceGroups/g`;
      const vault = `${group}/providers/Microsoft.KeyVault/vaults/v`;
      const atSubscription = assignment(base, tenant);
      const atGroup = assignment(group, tenant);
      const atVault = assignment(vault, tenant);
      const atSecret = assignment(`${vault}/secrets/s`, tenant);
      const beside = assignment(`${base}/resourceGroups/g2`, tenant);
      for (const a of [atSubscription, atGroup, atVault, atSecret, beside]) expect(await store.createAssignment(a)).toBe('created');

      const names = async (scope: string) => (await store.assignmentsUnder(scope)).map((a) => a.name).sort();
      expect(await names(base)).toEqual([atSubscription, atGroup, atVault, atSecret, beside].map((a) => a.name).sort());
      expect(await names(group.toUpperCase())).toEqual([atGroup, atVault, atSecret].map((a) => a.name).sort());
      expect(await names(vault)).toEqual([atVault, atSecret].map((a) => a.name).sort());
      expect(await names(`/subscriptions/${randomUUID()}`)).toEqual([]);
    });

    it("answers a principal's assignments in one subscription, of its tenant only", async () => {
      const { store, base, tenant } = subject();
      const principalId = randomUUID();
      const mine = [assignment(base, tenant, { principalId }), assignment(`${base}/resourceGroups/g/providers/x/y/z`, tenant, { principalId })];
      const elsewhere = subject();
      const otherSubscription = assignment(elsewhere.base, tenant, { principalId });
      const otherTenant = assignment(base, randomUUID(), { principalId, roleDefinitionId: roleDefinitionId('x', roleIds.reader) });
      const otherPrincipal = assignment(base, tenant);
      for (const a of [...mine, otherSubscription, otherTenant, otherPrincipal]) expect(await store.createAssignment(a)).toBe('created');

      const held = await store.assignmentsOf(tenant.toUpperCase(), principalId.toUpperCase(), base.split('/')[2]!.toUpperCase());
      expect(held.map((a) => a.name).sort()).toEqual(mine.map((a) => a.name).sort());
    });

    it('deletes an assignment with its index items: the name and the triple are free again', async () => {
      const { store, base, tenant } = subject();
      const a = assignment(base, tenant);
      await store.createAssignment(a);
      await store.deleteAssignment(a);
      expect(await store.getAssignment(a.name)).toBeUndefined();
      expect(await store.assignmentsUnder(base)).toEqual([]);
      expect(await store.assignmentsOf(tenant, a.principalId, base.split('/')[2]!)).toEqual([]);
      expect(await store.createAssignment({ ...a, name: randomUUID() })).toBe('created');
      expect(await store.createAssignment(a)).toBe('duplicate');
    });

    it('keeps many assignments at one scope and lists them all', async () => {
      const { store, base, tenant } = subject();
      const many = Array.from({ length: 60 }, () => assignment(`${base}/resourceGroups/g`, tenant, { description: 'x'.repeat(400) }));
      const outcomes = await Promise.all(many.map((a) => store.createAssignment(a)));
      expect(outcomes.every((o) => o === 'created')).toBe(true);
      expect((await store.assignmentsUnder(base)).map((a) => a.name).sort()).toEqual(many.map((a) => a.name).sort());
    });

    it('stores, replaces, lists and deletes custom role definitions by subscription', async () => {
      const { store, subscription } = subject();
      const definition: RoleDefinition = {
        name: randomUUID(),
        roleName: 'Secret reader',
        description: 'reads',
        roleType: 'CustomRole',
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/*'], notDataActions: ['x'] }],
        assignableScopes: [`/subscriptions/${subscription}`],
        createdOn: '2026-12-01T00:00:00.000Z',
        updatedOn: '2026-12-01T00:00:00.000Z',
        createdBy: 'me',
      };
      await store.putRoleDefinition(subscription, definition);
      expect(await store.getRoleDefinition(definition.name.toUpperCase())).toEqual(definition);
      const renamed = { ...definition, roleName: 'Renamed' };
      await store.putRoleDefinition(subscription, renamed);
      expect(await store.getRoleDefinition(definition.name)).toEqual(renamed);
      expect(await store.roleDefinitionsIn(subscription.toUpperCase())).toEqual([renamed]);
      expect(await store.roleDefinitionsIn(randomUUID())).toEqual([]);
      await store.deleteRoleDefinition(subscription, definition.name);
      expect(await store.getRoleDefinition(definition.name)).toBeUndefined();
      expect(await store.roleDefinitionsIn(subscription)).toEqual([]);
    });
  });
}
