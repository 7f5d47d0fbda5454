import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../lib/access/access-control.ts';
import { roleDefinitionId } from '../../lib/access/assignments.ts';
import { MemoryAccessStore } from '../../lib/access/memory-store.ts';
import { RoleAssignments } from '../../lib/access/role-assignments.ts';
import { RoleDefinitions } from '../../lib/access/role-definitions.ts';
import { roleIds } from '../../lib/access/roles.ts';
import type { RoleDefinitionInput } from '../../lib/access/schemas.ts';
import type { Principal } from '../../lib/auth/principal.ts';
import { VaultError } from '../../lib/core/errors.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SUB = '11111111-2222-3333-4444-555555555555';
const SUBSCRIPTION = `/subscriptions/${SUB}`;
const VAULT = `${SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v`;
const admin: Principal = { tenantId: TENANT, objectId: randomUUID(), issuer: 'https://login.test/' };

function setup() {
  const store = new MemoryAccessStore();
  const access = new AccessControl(store, { tenantAdministrators: [{ tenantId: TENANT, objectId: admin.objectId }] });
  return { store, access, definitions: new RoleDefinitions(store, access), assignments: new RoleAssignments(store, access) };
}

function role(over: Partial<RoleDefinitionInput['properties']> = {}): RoleDefinitionInput {
  return {
    properties: {
      roleName: `role ${randomUUID()}`,
      description: 'all secrets but their values',
      permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/secrets/*'], notDataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] }],
      assignableScopes: [VAULT],
      ...over,
    },
  };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  return { status: (error as VaultError).status, code: (error as VaultError).code };
}

describe('RoleDefinitions', () => {
  it('stores a custom role whose notDataActions take away what its dataActions grant', async () => {
    const { definitions, assignments, access } = setup();
    const name = randomUUID();
    const stored = await definitions.put(admin, SUBSCRIPTION, name, role());
    expect(stored).toMatchObject({
      name,
      roleType: 'CustomRole',
      permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/*'] }],
      createdBy: admin.objectId,
    });
    const app: Principal = { tenantId: TENANT, objectId: randomUUID(), issuer: 'x' };
    await assignments.create({ principal: admin, tenantId: TENANT }, `${VAULT}/secrets/s`, randomUUID(), {
      properties: { roleDefinitionId: roleDefinitionId(SUB, name), principalId: app.objectId },
    });
    const holds = async (action: string) =>
      (await access.grants(app, `Microsoft.KeyVault/vaults/secrets/${action}`, 'data', `${VAULT}/secrets/s`)).length;
    expect(await holds('readMetadata/action')).toBe(1);
    expect(await holds('getSecret/action')).toBe(0);
    expect((await access.grants(app, 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', 'data', `${VAULT}/secrets/t`)).length).toBe(0);
  });

  it('is assignable only within its assignable scopes', async () => {
    const { definitions, assignments } = setup();
    const name = randomUUID();
    await definitions.put(admin, SUBSCRIPTION, name, role());
    const create = (scope: string) =>
      assignments.create({ principal: admin, tenantId: TENANT }, scope, randomUUID(), {
        properties: { roleDefinitionId: roleDefinitionId(SUB, name), principalId: randomUUID() },
      });
    expect((await create(VAULT)).created).toBe(true);
    expect(await refusal(create(SUBSCRIPTION))).toEqual({ status: 400, code: 'RoleDefinitionDoesNotExist' });
  });

  it('refuses assignable scopes outside the subscription, built-in GUIDs, bad names and a taken role name', async () => {
    const { definitions, store } = setup();
    expect(await refusal(definitions.put(admin, SUBSCRIPTION, randomUUID(), role({ assignableScopes: [`/subscriptions/${randomUUID()}`] })))).toEqual(
      {
        status: 400,
        code: 'InvalidAssignableScope',
      },
    );
    expect(await refusal(definitions.put(admin, SUBSCRIPTION, roleIds.owner, role()))).toMatchObject({ status: 400 });
    expect(await refusal(definitions.put(admin, SUBSCRIPTION, 'reader', role()))).toEqual({ status: 400, code: 'InvalidRoleDefinitionId' });
    expect(await refusal(definitions.put(admin, SUBSCRIPTION, randomUUID(), role({ roleName: 'Key Vault Reader' })))).toEqual({
      status: 409,
      code: 'RoleDefinitionWithSameNameExists',
    });
    expect(await store.roleDefinitionsIn(SUB)).toEqual([]);
  });

  it('gets built-in roles at any scope and custom ones in their subscription, lists with filters, and deletes only unassigned roles', async () => {
    const { definitions, assignments } = setup();
    const name = randomUUID();
    const input = role();
    await definitions.put(admin, SUBSCRIPTION, name, input);
    expect((await definitions.get(`${VAULT}/keys/k`, roleIds.cryptoUser)).roleName).toBe('Key Vault Crypto User');
    expect((await definitions.get(VAULT, name)).roleName).toBe(input.properties.roleName);
    expect(await refusal(definitions.get(`/subscriptions/${randomUUID()}`, name))).toEqual({ status: 404, code: 'RoleDefinitionDoesNotExist' });

    expect((await definitions.list(VAULT, "type eq 'CustomRole'")).map((d) => d.name)).toEqual([name]);
    expect((await definitions.list(VAULT, "roleName eq 'key vault secrets user'")).map((d) => d.name)).toEqual([roleIds.secretsUser]);
    expect((await definitions.list('/', "type eq 'BuiltInRole'")).length).toBeGreaterThan(10);
    expect(await refusal(definitions.list(VAULT, "type eq 'Other'"))).toEqual({ status: 400, code: 'InvalidFilterInQueryString' });

    const { assignment } = await assignments.create({ principal: admin, tenantId: TENANT }, VAULT, randomUUID(), {
      properties: { roleDefinitionId: roleDefinitionId(SUB, name), principalId: randomUUID() },
    });
    expect(await refusal(definitions.delete(SUBSCRIPTION, name))).toEqual({ status: 409, code: 'RoleDefinitionHasAssignments' });
    await assignments.delete({ principal: admin, tenantId: TENANT }, VAULT, assignment.name);
    expect((await definitions.delete(SUBSCRIPTION, name))?.name).toBe(name);
    expect(await definitions.delete(SUBSCRIPTION, name)).toBeUndefined();
  });
});
