import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../lib/access/access-control.ts';
import { roleDefinitionId } from '../../lib/access/assignments.ts';
import { MemoryAccessStore } from '../../lib/access/memory-store.ts';
import { RoleAssignments } from '../../lib/access/role-assignments.ts';
import { RoleDefinitions } from '../../lib/access/role-definitions.ts';
import { roleIds } from '../../lib/access/roles.ts';
import type { Principal } from '../../lib/auth/principal.ts';
import { VaultError } from '../../lib/core/errors.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SUB = '11111111-2222-3333-4444-555555555555';
const SUBSCRIPTION = `/subscriptions/${SUB}`;
const GROUP = `${SUBSCRIPTION}/resourceGroups/g`;
const VAULT = `${GROUP}/providers/Microsoft.KeyVault/vaults/v`;
const SECRET = `${VAULT}/secrets/s`;

function principal(objectId = randomUUID()): Principal {
  return { tenantId: TENANT, objectId, issuer: 'https://login.test/' };
}

const admin = principal();

function setup(pageSize = 100) {
  const store = new MemoryAccessStore();
  const access = new AccessControl(store, { tenantAdministrators: [{ tenantId: TENANT, objectId: admin.objectId }] });
  const service = new RoleAssignments(store, access, pageSize, () => new Date('2026-12-01T10:00:00.000Z'));
  const definitions = new RoleDefinitions(store, access, () => new Date('2026-12-01T10:00:00.000Z'));
  return { store, access, service, definitions };
}

function body(role: string, principalId: string, extra: Record<string, unknown> = {}) {
  return { properties: { roleDefinitionId: roleDefinitionId(SUB, role), principalId, ...extra } };
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  const { status, code, message } = error as VaultError;
  return { status, code, message };
}

const caller = (p: Principal) => ({ principal: p, tenantId: TENANT });

describe('RoleAssignments', () => {
  it('creates an assignment (201), answers the same PUT again (200), and refuses a changed one and a duplicate triple', async () => {
    const { service, store } = setup();
    const app = randomUUID();
    const name = randomUUID();
    const created = await service.create(caller(admin), SECRET, name, body(roleIds.secretsUser, app, { principalType: 'ServicePrincipal' }));
    expect(created.created).toBe(true);
    expect(created.assignment).toMatchObject({
      name,
      scope: SECRET,
      roleDefinitionId: roleDefinitionId(SUB, roleIds.secretsUser),
      principalId: app,
      principalType: 'ServicePrincipal',
      tenantId: TENANT,
      createdOn: '2026-12-01T10:00:00.000Z',
      createdBy: admin.objectId,
    });
    const again = await service.create(caller(admin), SECRET, name, body(roleIds.secretsUser, app, { principalType: 'ServicePrincipal' }));
    expect(again).toEqual({ created: false, assignment: created.assignment });

    expect(await refusal(service.create(caller(admin), SECRET, name, body(roleIds.secretsOfficer, app)))).toMatchObject({
      status: 409,
      code: 'RoleAssignmentUpdateNotPermitted',
    });
    expect(await refusal(service.create(caller(admin), SECRET, randomUUID(), body(roleIds.secretsUser, app)))).toMatchObject({
      status: 409,
      code: 'RoleAssignmentExists',
    });
    expect(await store.assignmentsUnder(SUBSCRIPTION)).toHaveLength(1);
  });

  it('refuses bad names, malformed and unknown roles, principals that are no GUID, scopes outside a subscription: nothing is stored', async () => {
    const { service, store } = setup();
    const app = randomUUID();
    expect(await refusal(service.create(caller(admin), VAULT, 'not-a-guid', body(roleIds.reader, app)))).toMatchObject({
      status: 400,
      code: 'InvalidRoleAssignmentId',
    });
    expect(
      await refusal(service.create(caller(admin), VAULT, randomUUID(), { properties: { roleDefinitionId: 'Reader', principalId: app } })),
    ).toMatchObject({ status: 400, code: 'InvalidRoleDefinitionId' });
    expect(await refusal(service.create(caller(admin), VAULT, randomUUID(), body(randomUUID(), app)))).toMatchObject({
      status: 400,
      code: 'RoleDefinitionDoesNotExist',
    });
    expect(await refusal(service.create(caller(admin), VAULT, randomUUID(), body(roleIds.reader, 'someone')))).toMatchObject({
      status: 400,
      code: 'InvalidPrincipalId',
    });
    expect(await refusal(service.create(caller(admin), '/', randomUUID(), body(roleIds.reader, app)))).toMatchObject({
      status: 400,
      code: 'InvalidScope',
    });
    expect(await store.assignmentsUnder(SUBSCRIPTION)).toEqual([]);
  });

  it('lets a Key Vault Data Access Administrator grant and remove only the Key Vault data roles', async () => {
    const { service, store } = setup();
    const delegate = principal();
    await service.create(caller(admin), VAULT, randomUUID(), body(roleIds.keyVaultDataAccessAdministrator, delegate.objectId));
    const app = randomUUID();

    const granted = await service.create(caller(delegate), SECRET, randomUUID(), body(roleIds.secretsUser, app));
    expect(granted.created).toBe(true);
    for (const role of [roleIds.owner, roleIds.userAccessAdministrator, roleIds.keyVaultDataAccessAdministrator, roleIds.contributor]) {
      expect(await refusal(service.create(caller(delegate), VAULT, randomUUID(), body(role, app)))).toMatchObject({
        status: 403,
        code: 'AuthorizationFailed',
      });
    }
    // It may not remove an Owner assignment either, but may remove the data role it granted.
    const owner = await service.create(caller(admin), VAULT, randomUUID(), body(roleIds.owner, app));
    expect(await refusal(service.delete(caller(delegate), VAULT, owner.assignment.name))).toMatchObject({ status: 403 });
    expect(await service.delete(caller(delegate), SECRET, granted.assignment.name)).toEqual(granted.assignment);
    expect((await store.assignmentsUnder(SUBSCRIPTION)).map((a) => a.name).sort()).toEqual(
      [owner.assignment.name, (await store.assignmentsUnder(VAULT)).find((a) => a.principalId === delegate.objectId)!.name].sort(),
    );
  });

  it('lets an unrestricted grant (User Access Administrator) next to a restricted one grant any role', async () => {
    const { service } = setup();
    const delegate = principal();
    await service.create(caller(admin), VAULT, randomUUID(), body(roleIds.keyVaultDataAccessAdministrator, delegate.objectId));
    await service.create(caller(admin), GROUP, randomUUID(), body(roleIds.userAccessAdministrator, delegate.objectId));
    expect((await service.create(caller(delegate), VAULT, randomUUID(), body(roleIds.owner, randomUUID()))).created).toBe(true);
  });

  it('makes a new grant effective at once in this container, and a deletion too', async () => {
    const { service, access } = setup();
    const app = principal();
    const read = () => access.grants(app, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'data', SECRET);
    expect(await read()).toEqual([]);
    const { assignment } = await service.create(caller(admin), SECRET, randomUUID(), body(roleIds.secretsUser, app.objectId));
    expect((await read()).map((g) => g.assignment.name)).toEqual([assignment.name]);
    await service.delete(caller(admin), SECRET, assignment.name);
    expect(await read()).toEqual([]);
  });

  it('gets an assignment only at its own scope, and deletes with 200 once and 204 after', async () => {
    const { service } = setup();
    const { assignment } = await service.create(caller(admin), VAULT, randomUUID(), body(roleIds.reader, randomUUID()));
    expect(await service.get(VAULT.toUpperCase(), assignment.name)).toEqual(assignment);
    expect(await refusal(service.get(GROUP, assignment.name))).toMatchObject({ status: 404, code: 'RoleAssignmentNotFound' });
    expect(await service.delete(caller(admin), VAULT, assignment.name)).toEqual(assignment);
    expect(await service.delete(caller(admin), VAULT, assignment.name)).toBeUndefined();
  });

  it('lists at, above and below a scope, atScope() at and above, principalId eq and assignedTo() for one principal, in pages', async () => {
    const { service } = setup(2);
    const app = randomUUID();
    const other = randomUUID();
    const make = async (scope: string, who: string, role: string = roleIds.reader) =>
      (await service.create(caller(admin), scope, randomUUID(), body(role, who))).assignment.name;
    const atSub = await make(SUBSCRIPTION, other);
    const atVault = await make(VAULT, app);
    const atSecret = await make(SECRET, app, roleIds.secretsUser);
    const beside = await make(`${SUBSCRIPTION}/resourceGroups/other`, app);

    const all = async (filter?: string) => {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await service.list(VAULT, filter, token);
        expect(page.value.length).toBeLessThanOrEqual(2);
        names.push(...page.value.map((a) => a.name));
        token = page.next;
      } while (token);
      return names.sort();
    };
    expect(await all()).toEqual([atSub, atVault, atSecret].sort());
    expect(await all('atScope()')).toEqual([atSub, atVault].sort());
    expect(await all(`principalId eq '${app.toUpperCase()}'`)).toEqual([atVault, atSecret].sort());
    expect(await all(`atScope() and assignedTo('${app}')`)).toEqual([atVault]);
    expect((await service.list(SUBSCRIPTION, undefined, undefined)).value).toHaveLength(2);
    expect(beside).toBeTruthy();
    expect(await refusal(service.list(VAULT, "roleName eq 'x'", undefined))).toMatchObject({ status: 400, code: 'InvalidFilterInQueryString' });
    expect(await refusal(service.list(VAULT, undefined, 'garbage'))).toMatchObject({ status: 400, code: 'InvalidSkipToken' });
  });
});
