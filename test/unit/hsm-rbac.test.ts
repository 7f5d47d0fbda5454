import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../lib/auth/principal.ts';
import { HsmRbac, hsmRoleDefinitionId, hsmScope } from '../../lib/hsm/rbac.ts';
import { grantInitialAdministrators, HsmRbacManagement } from '../../lib/hsm/rbac-management.ts';
import { MemoryHsmRbacStore } from '../../lib/hsm/rbac-memory-store.ts';
import { hsmRoleAssignmentRequest as assignmentSchema, hsmRoleDefinitionRequest as definitionSchema } from '../../lib/hsm/rbac-schemas.ts';
import { hsmRoleAssignmentBody, hsmRoleAssignmentList, hsmRoleDefinitionBody, hsmRoleDefinitionList } from '../../lib/hsm/rbac-wire.ts';
import { hsmBuiltInRole, hsmRoleIds } from '../../lib/hsm/roles.ts';

const POOL = 'pool1';
const MHSM = 'Microsoft.KeyVault/managedHsm/';

function principal(): Principal {
  return { tenantId: randomUUID(), objectId: randomUUID(), issuer: 'https://idp.localhost/t' };
}

/** A pool whose administrator was granted at creation, and a management service over it. */
async function pool(ttlMs?: number) {
  const store = new MemoryHsmRbacStore();
  const rbac = new HsmRbac(store, ttlMs);
  const admin = principal();
  await grantInitialAdministrators(store, POOL, [admin.objectId.toUpperCase()]);
  const manage = new HsmRbacManagement(store, rbac);
  const grant = async (role: string, scope: string, who = principal()) => {
    await manage.createAssignment(POOL, admin, scope, randomUUID(), {
      properties: { roleDefinitionId: hsmRoleDefinitionId(role), principalId: who.objectId },
    });
    return who;
  };
  return { store, rbac, admin, manage, grant };
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { status: number; code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('Managed HSM local RBAC decisions', () => {
  it('denies by default with Managed HSM 403 AccessDenied naming the action and scope', async () => {
    const { rbac } = await pool();
    const error = await refusal(rbac.authorize(POOL, principal(), 'keys/create', '/keys', 'req-1'));
    expect(error).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: `Not authorized to access ${MHSM}keys/create on /keys (Activity ID: req-1)`,
    });
  });

  it('gives the initial administrators Administrator at /, once however often it is granted', async () => {
    const { store, rbac, admin } = await pool();
    await grantInitialAdministrators(store, POOL, [admin.objectId]);
    const held = await store.assignmentsOf(POOL, admin.objectId.toLowerCase());
    expect(held).toEqual([
      { name: expect.any(String), scope: '/', roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.administrator), principalId: admin.objectId },
    ]);
    await rbac.authorize(POOL, admin, 'roleAssignments/write/action', '/');
    await expect(rbac.authorize(POOL, admin, 'keys/create', '/keys')).rejects.toMatchObject({ status: 403 });
    // Another pool's administrators hold nothing here.
    await expect(rbac.authorize('pool2', admin, 'roleAssignments/write/action', '/')).rejects.toMatchObject({ status: 403 });
  });

  it('covers one key from /keys/{name}, any case, but not another key nor the pool', async () => {
    const { rbac, grant } = await pool();
    const app = await grant(hsmRoleIds.cryptoServiceEncryptionUser, '/keys/a');
    await rbac.authorize(POOL, app, 'keys/wrap/action', '/keys/a');
    await rbac.authorize(POOL, app, 'keys/unwrap/action', '/keys/A');
    await expect(rbac.authorize(POOL, app, 'keys/wrap/action', '/keys/b')).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(rbac.authorize(POOL, app, 'keys/wrap/action', '/keys/ab')).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(rbac.authorize(POOL, app, 'keys/read/action', '/keys')).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(rbac.authorize(POOL, app, 'keys/delete', '/keys/a')).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('treats /keys as the HSM level, as / is: an assignment at either covers every key and the pool', async () => {
    const { rbac, grant } = await pool();
    const user = await grant(hsmRoleIds.cryptoUser, '/keys');
    await rbac.authorize(POOL, user, 'keys/create', '/keys');
    await rbac.authorize(POOL, user, 'keys/sign/action', '/keys/any');
    await rbac.authorize(POOL, user, 'rng/action', '/');
  });

  it('sees a grant or revocation made elsewhere within the cache bound, and its own at once', async () => {
    const { store, rbac, manage, admin, grant } = await pool(50);
    const user = principal();
    await expect(rbac.authorize(POOL, user, 'keys/create', '/keys')).rejects.toMatchObject({ status: 403 });
    // Written straight to the store, as another container would: the cached refusal holds until the bound.
    await store.createAssignment(POOL, {
      name: randomUUID(),
      scope: '/',
      roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.cryptoUser),
      principalId: user.objectId,
    });
    await expect(rbac.authorize(POOL, user, 'keys/create', '/keys')).rejects.toMatchObject({ status: 403 });
    await sleep(80);
    await rbac.authorize(POOL, user, 'keys/create', '/keys');
    // This container's own change is seen at once.
    const other = await grant(hsmRoleIds.cryptoAuditor, '/');
    await rbac.authorize(POOL, other, 'keys/read/action', '/keys/k');
    const [assignment] = await manage.listAssignments(POOL, admin, '/', `principalId eq '${other.objectId}'`);
    await manage.deleteAssignment(POOL, admin, '/', assignment!.name);
    await expect(rbac.authorize(POOL, other, 'keys/read/action', '/keys/k')).rejects.toMatchObject({ status: 403 });
  });
});

describe('Managed HSM custom roles', () => {
  it('grants a custom role its DataActions minus its notDataActions, wildcards included', async () => {
    const { rbac, manage, admin, grant } = await pool();
    const name = randomUUID();
    const role = await manage.putDefinition(POOL, admin, '/', name.toUpperCase(), {
      properties: {
        roleName: 'Key maker',
        description: 'Creates and signs, never exports',
        type: 'CustomRole',
        permissions: [{ dataActions: [`${MHSM}keys/*`], notDataActions: [`${MHSM}keys/export/action`, `${MHSM}keys/deletedKeys/*`] }],
        assignableScopes: ['/keys'],
      },
    });
    expect(role).toEqual({
      name,
      roleName: 'Key maker',
      description: 'Creates and signs, never exports',
      roleType: 'CustomRole',
      permissions: [
        { actions: [], notActions: [], dataActions: [`${MHSM}keys/*`], notDataActions: [`${MHSM}keys/export/action`, `${MHSM}keys/deletedKeys/*`] },
      ],
      assignableScopes: ['/keys'],
    });
    const maker = await grant(name, '/keys/k1');
    await rbac.authorize(POOL, maker, 'keys/sign/action', '/keys/k1');
    await rbac.authorize(POOL, maker, 'keys/create', '/keys/k1');
    for (const action of ['keys/export/action', 'keys/deletedKeys/delete'] as const) {
      await expect(rbac.authorize(POOL, maker, action, '/keys/k1')).rejects.toMatchObject({ status: 403 });
    }
    await expect(rbac.authorize(POOL, maker, 'rng/action', '/')).rejects.toMatchObject({ status: 403 });
    // Assignable at /keys and below only.
    await expect(grant(name, '/')).rejects.toMatchObject({ status: 400, code: 'BadParameter' });
  });

  it('defaults what the Python client leaves out, answers the role among the built-in ones and replaces it on a second PUT', async () => {
    const { manage, admin } = await pool();
    const name = randomUUID();
    expect(await manage.putDefinition(POOL, admin, '', name, { properties: {} })).toMatchObject({
      roleName: '',
      description: '',
      permissions: [],
      assignableScopes: ['/'],
    });
    await manage.putDefinition(POOL, admin, '/', name, {
      properties: { roleName: 'Reader', permissions: [{ dataActions: [`${MHSM}keys/read/action`] }] },
    });
    const listed = await manage.listDefinitions(POOL, admin, '/', undefined);
    expect(listed.map((d) => d.name)).toEqual([...Object.values(hsmRoleIds), name]);
    expect(await manage.getDefinition(POOL, admin, '/keys', name)).toMatchObject({ roleName: 'Reader' });
    expect((await manage.listDefinitions(POOL, admin, '/', "roleName eq 'managed hsm crypto user'")).map((d) => d.name)).toEqual([
      hsmRoleIds.cryptoUser,
    ]);
    expect(await manage.listDefinitions(POOL, admin, '/', 'atScope()')).toHaveLength(10);
  });

  it('refuses to delete a built-in role or an assigned one, and answers 404 for one that is not there', async () => {
    const { manage, admin, grant } = await pool();
    expect(await refusal(manage.deleteDefinition(POOL, admin, '/', hsmRoleIds.cryptoUser))).toMatchObject({
      status: 400,
      code: 'BadParameter',
      message: 'Cannot re-use the name/GUID matching that of a built-in role. Please use a unique role ID.',
    });
    const name = randomUUID();
    await manage.putDefinition(POOL, admin, '/', name, { properties: { roleName: 'r' } });
    const holder = await grant(name, '/');
    expect(await refusal(manage.deleteDefinition(POOL, admin, '/', name))).toMatchObject({ status: 409, code: 'Conflict' });
    const [assignment] = await manage.listAssignments(POOL, admin, '/', `principalId eq '${holder.objectId}'`);
    await manage.deleteAssignment(POOL, admin, '/', assignment!.name);
    expect(await manage.deleteDefinition(POOL, admin, '/', name)).toMatchObject({ name });
    expect(await refusal(manage.deleteDefinition(POOL, admin, '/', name))).toMatchObject({
      status: 404,
      code: 'RoleDefinitionNotFound',
      message: 'Requested role definition not found',
    });
    expect(await refusal(manage.getDefinition(POOL, admin, '/', 'does_not_exist'))).toMatchObject({ status: 404, code: 'RoleDefinitionNotFound' });
  });

  it('answers precise 400s for a bad role definition', async () => {
    const { manage, admin } = await pool();
    const put = (body: Parameters<HsmRbacManagement['putDefinition']>[4], scope = '/', name: string = randomUUID()) =>
      refusal(manage.putDefinition(POOL, admin, scope, name, body));
    const cases: [Promise<{ status: number; code: string; message: string }>, string][] = [
      [put({ properties: {} }, '/', 'foo unique value'), 'Role definition name must be a GUID'],
      [
        put({ properties: {} }, '/', hsmRoleIds.administrator),
        'Cannot re-use the name/GUID matching that of a built-in role. Please use a unique role ID.',
      ],
      [put({ properties: {} }, '/keys'), "The scope '/keys' is not valid for role definitions: Managed HSM only supports '/'."],
      [
        put({ properties: { type: 'AKVBuiltInRole' } }),
        "The role definition type 'AKVBuiltInRole' is not valid: a role definition written is a 'CustomRole'.",
      ],
      [
        put({ properties: { permissions: [{ actions: ['Microsoft.KeyVault/vaults/read'] }] } }),
        "A managed HSM's role definitions grant DataActions only: 'actions' and 'notActions' must be empty.",
      ],
      [
        put({ properties: { permissions: [{ dataActions: [`${MHSM}keys/launch/action`] }] } }),
        `The data action '${MHSM}keys/launch/action' is not valid: it names none of a managed HSM's data actions ('${MHSM}...').`,
      ],
      [
        put({ properties: { permissions: [{ notDataActions: ['Microsoft.KeyVault/vaults/keys/*'] }] } }),
        "The data action 'Microsoft.KeyVault/vaults/keys/*' is not valid: it names none of a managed HSM's data actions ('Microsoft.KeyVault/managedHsm/...').",
      ],
      [
        put({ properties: { assignableScopes: ['/keys/k'] } }),
        "The assignable scope '/keys/k' is not valid: a custom role is assignable at '/' or '/keys'.",
      ],
    ];
    for (const [error, message] of cases) expect(await error).toMatchObject({ status: 400, code: 'BadParameter', message });
    expect(await manage.listDefinitions(POOL, admin, '/', undefined)).toHaveLength(9);
  });
});

describe('Managed HSM role assignments', () => {
  it('authorizes managing roles by their own DataActions', async () => {
    const { manage, grant } = await pool();
    const user = await grant(hsmRoleIds.cryptoUser, '/');
    const body = { properties: { roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.cryptoUser), principalId: randomUUID() } };
    // A Crypto User reads roles but grants none.
    expect(await manage.listAssignments(POOL, user, '/', undefined)).toHaveLength(2);
    expect(await refusal(manage.createAssignment(POOL, user, '/', randomUUID(), body))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: `Not authorized to access ${MHSM}roleAssignments/write/action on /`,
    });
    const app = await grant(hsmRoleIds.cryptoServiceEncryptionUser, '/');
    for (const call of [manage.listAssignments(POOL, app, '/', undefined), manage.listDefinitions(POOL, app, '/', undefined)]) {
      expect(await refusal(call)).toMatchObject({ status: 403, code: 'AccessDenied' });
    }
    // A Policy Administrator of one key manages that key's assignments only.
    const keyAdmin = await grant(hsmRoleIds.policyAdministrator, '/keys/k1');
    await manage.createAssignment(POOL, keyAdmin, '/keys/k1', randomUUID(), body);
    expect(await refusal(manage.createAssignment(POOL, keyAdmin, '/keys/k2', randomUUID(), body))).toMatchObject({ status: 403 });
    expect(await refusal(manage.listAssignments(POOL, keyAdmin, '/', undefined))).toMatchObject({
      message: `Not authorized to access ${MHSM}roleAssignments/read/action on /`,
    });
  });

  it('answers a PUT again with the same assignment and refuses the name for another', async () => {
    const { manage, admin } = await pool();
    const name = randomUUID();
    const principalId = randomUUID();
    const body = { properties: { roleDefinitionId: `/${hsmRoleDefinitionId(hsmRoleIds.cryptoUser)}`, principalId } };
    const first = await manage.createAssignment(POOL, admin, 'keys', name, body);
    expect(first).toEqual({ name, scope: '/keys', roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.cryptoUser), principalId });
    expect(await manage.createAssignment(POOL, admin, '/keys/', name.toUpperCase(), body)).toEqual(first);
    const other = { properties: { ...body.properties, principalId: randomUUID() } };
    expect(await refusal(manage.createAssignment(POOL, admin, '/keys', name, other))).toMatchObject({ status: 409, code: 'Conflict' });
    expect(await manage.getAssignment(POOL, admin, '/keys', name)).toEqual(first);
    // An assignment is found at its own scope only.
    expect(await refusal(manage.getAssignment(POOL, admin, '/', name))).toMatchObject({
      status: 404,
      code: 'RoleAssignmentNotFound',
      message: 'Requested role assignment not found',
    });
    expect(await manage.deleteAssignment(POOL, admin, '/keys', name)).toEqual(first);
    expect(await refusal(manage.deleteAssignment(POOL, admin, '/keys', name))).toMatchObject({ status: 404, code: 'RoleAssignmentNotFound' });
  });

  it('lists what applies at a scope: the HSM level and the scope itself, one principal with its key-level ones below', async () => {
    const { manage, admin, grant } = await pool();
    const app = principal();
    await grant(hsmRoleIds.cryptoUser, '/keys', app);
    await grant(hsmRoleIds.cryptoServiceEncryptionUser, '/keys/k1', app);
    await grant(hsmRoleIds.cryptoServiceEncryptionUser, '/keys/k2');
    const scopes = async (scope: string, filter?: string) => (await manage.listAssignments(POOL, admin, scope, filter)).map((a) => a.scope).sort();
    expect(await scopes('/')).toEqual(['/', '/keys']);
    expect(await scopes('/keys')).toEqual(['/', '/keys']);
    expect(await scopes('/keys', 'atScope()')).toEqual(['/', '/keys']);
    expect(await scopes('/keys/K1')).toEqual(['/', '/keys', '/keys/k1']);
    expect(await scopes('/', `principalId eq '${app.objectId.toUpperCase()}'`)).toEqual(['/keys', '/keys/k1']);
    expect(await scopes('/keys/k2', `atScope() and principalId eq '${app.objectId}'`)).toEqual(['/keys']);
  });

  it('answers precise 400s for bad scopes, names, roles, principals and filters', async () => {
    const { manage, admin } = await pool();
    const body = (roleDefinitionId: string, principalId: string = randomUUID()) => ({ properties: { roleDefinitionId, principalId } });
    const good = hsmRoleDefinitionId(hsmRoleIds.cryptoUser);
    const cases: [Promise<unknown>, string][] = [
      [
        manage.createAssignment(POOL, admin, '/secrets', randomUUID(), body(good)),
        "The scope '/secrets' is not valid: a managed HSM's role assignments are at '/', '/keys' or '/keys/{key name}'.",
      ],
      [
        manage.createAssignment(POOL, admin, '/keys/a/b', randomUUID(), body(good)),
        "The scope '/keys/a/b' is not valid: a managed HSM's role assignments are at '/', '/keys' or '/keys/{key name}'.",
      ],
      [
        manage.createAssignment(POOL, admin, '/keys/a_b', randomUUID(), body(good)),
        "The scope '/keys/a_b' is not valid: a managed HSM's role assignments are at '/', '/keys' or '/keys/{key name}'.",
      ],
      [manage.createAssignment(POOL, admin, '/', 'not-a-guid', body(good)), 'Role assignment name must be a GUID'],
      [
        manage.createAssignment(
          POOL,
          admin,
          '/',
          randomUUID(),
          body(`/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${hsmRoleIds.cryptoUser}`),
        ),
        `The role definition id '/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${hsmRoleIds.cryptoUser}' is not valid: it is 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{guid}'.`,
      ],
      [
        manage.createAssignment(POOL, admin, '/', randomUUID(), body(hsmRoleDefinitionId('12338af0-0e69-4776-bea7-57ae8d297424'))),
        "The role definition '12338af0-0e69-4776-bea7-57ae8d297424' does not exist in this managed HSM.",
      ],
      [
        manage.createAssignment(POOL, admin, '/', randomUUID(), body(good, 'user@contoso.com')),
        "The principal id 'user@contoso.com' is not valid: it is an object id (a GUID).",
      ],
      [
        manage.listAssignments(POOL, admin, '/', "principalId eq 'x' or atScope()"),
        "The filter 'principalId eq 'x' or atScope()' is not supported: role assignments are filtered by atScope() or principalId eq '{object id}'.",
      ],
      [
        manage.listAssignments(POOL, admin, '/', 'assignedTo()'),
        "The filter 'assignedTo()' is not supported: role assignments are filtered by atScope() or principalId eq '{object id}'.",
      ],
      [
        manage.listDefinitions(POOL, admin, '/', "type eq 'CustomRole'"),
        "The filter 'type eq 'CustomRole'' is not supported: role definitions are filtered by atScope(), atScopeAndBelow() or roleName eq '{name}'.",
      ],
    ];
    for (const [call, message] of cases) expect(await refusal(call)).toMatchObject({ status: 400, code: 'BadParameter', message });
    expect(await manage.listAssignments(POOL, admin, '/', undefined)).toHaveLength(1);
  });

  it('parses the scopes the SDKs write', () => {
    expect(['', '/', '//', '///'].map(hsmScope)).toEqual(['/', '/', '/', '/']);
    expect(['keys', '/keys', '/keys/', 'KEYS'].map(hsmScope)).toEqual(['/keys', '/keys', '/keys', '/keys']);
    expect(hsmScope('/keys/MyKey-1')).toBe('/keys/MyKey-1');
  });

  it('checks the bodies the routes receive', () => {
    expect(assignmentSchema.safeParse({ properties: { roleDefinitionId: 'x' } }).success).toBe(false);
    expect(assignmentSchema.safeParse({ properties: { roleDefinitionId: 'x', principalId: 'y' } }).success).toBe(true);
    expect(definitionSchema.safeParse({ properties: { permissions: [{ dataActions: 'keys/read' }] } }).success).toBe(false);
    expect(definitionSchema.safeParse({ properties: { roleName: null, description: null, permissions: null, assignableScopes: null } }).success).toBe(
      true,
    );
  });
});

describe('Managed HSM RBAC wire shapes', () => {
  it('answers assignments with ids under their scope, as Managed HSM does', () => {
    const base = {
      name: '0f7dd37a-fb3c-41f1-849a-a0e9571462ae',
      roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.administrator),
      principalId: '01ea9a65-813e-4238-8204-bf7328d63fc6',
    };
    expect(hsmRoleAssignmentBody({ ...base, scope: '/' })).toEqual({
      id: '/providers/Microsoft.Authorization/roleAssignments/0f7dd37a-fb3c-41f1-849a-a0e9571462ae',
      name: '0f7dd37a-fb3c-41f1-849a-a0e9571462ae',
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        scope: '/',
        roleDefinitionId: 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/a290e904-7015-4bba-90c8-60543313cdb4',
        principalId: '01ea9a65-813e-4238-8204-bf7328d63fc6',
      },
    });
    expect(hsmRoleAssignmentBody({ ...base, scope: '/keys' }).id).toBe(
      '/keys/providers/Microsoft.Authorization/roleAssignments/0f7dd37a-fb3c-41f1-849a-a0e9571462ae',
    );
    expect(hsmRoleAssignmentBody({ ...base, scope: '/keys/k1' }).id).toBe(
      '/keys/k1/providers/Microsoft.Authorization/roleAssignments/0f7dd37a-fb3c-41f1-849a-a0e9571462ae',
    );
    expect(hsmRoleAssignmentList([{ ...base, scope: '/' }])).toEqual({ value: [hsmRoleAssignmentBody({ ...base, scope: '/' })] });
  });

  it('answers a built-in role as AKVBuiltInRole with the id Managed HSM gives it, and a custom one as CustomRole', () => {
    expect(hsmRoleDefinitionBody(hsmBuiltInRole(hsmRoleIds.cryptoServiceEncryptionUser)!)).toEqual({
      id: 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/33413926-3206-4cdd-b39a-83574fe37a17',
      name: '33413926-3206-4cdd-b39a-83574fe37a17',
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName: 'Managed HSM Crypto Service Encryption User',
        description: '',
        type: 'AKVBuiltInRole',
        permissions: [
          {
            actions: [],
            notActions: [],
            dataActions: [`${MHSM}keys/read/action`, `${MHSM}keys/wrap/action`, `${MHSM}keys/unwrap/action`],
            notDataActions: [],
          },
        ],
        assignableScopes: ['/'],
      },
    });
    const custom = {
      name: 'b36b00af-89c6-435f-a43d-9a3087015c27',
      roleName: 'r',
      description: '',
      roleType: 'CustomRole' as const,
      permissions: [],
      assignableScopes: ['/'],
    };
    expect(hsmRoleDefinitionList([custom])).toEqual({
      value: [
        {
          id: 'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/b36b00af-89c6-435f-a43d-9a3087015c27',
          name: 'b36b00af-89c6-435f-a43d-9a3087015c27',
          type: 'Microsoft.Authorization/roleDefinitions',
          properties: { roleName: 'r', description: '', type: 'CustomRole', permissions: [], assignableScopes: ['/'] },
        },
      ],
    });
  });
});
