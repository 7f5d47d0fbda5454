import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoHsmRbacStore } from '../../lib/aws/dynamo-hsm-rbac.ts';
import { DynamoPoolSettingsStore } from '../../lib/aws/dynamo-pool-settings.ts';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { waitForAuditItems } from '../support/audit.ts';
import { adminSecretCredential, localStack, raw, rolelessCredential, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * A managed HSM pool's own data plane through raw HTTPS (docs/adr/0022): its hsmUri (a claimed local
 * endpoint) and its `<pool>.managedhsm.<vault domain>` name reach the pool; the Managed HSM audience
 * and its empty-bodied 401 challenge; a 404 for a host no live pool serves; the local RBAC routes'
 * exact shapes, deny by default, a Crypto User refused role writes and the Administrator allowed;
 * the path's 400s; and every request in the pool's audit partition.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const API = 'api-version=7.4';

const name = uniqueName('pdp').replace(/-/g, '').slice(0, 24);
let hsmUri = '';
let port = '';
let adminToken = '';
let userToken = '';
let rolelessToken = '';
let userObjectId = '';

async function tokenOf(credential: { getToken(scope: string): Promise<{ token: string } | null> }, scope = MHSM_SCOPE): Promise<string> {
  return (await credential.getToken(scope))!.token;
}

beforeAll(async () => {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  hsmUri = pool.properties!.hsmUri!;
  port = new URL(hsmUri).port;
  adminToken = await tokenOf(adminSecretCredential(info));
  userToken = await tokenOf(unprivilegedCredential(info));
  rolelessToken = await tokenOf(rolelessCredential(info));
  userObjectId = info.unprivileged.objectId;
}, 60_000);

afterAll(async () => {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}, 60_000);

const at = (path: string) => `${hsmUri.replace(/\/$/, '')}${path}${path.includes('?') ? '&' : '?'}${API}`;

describe('a pool host', () => {
  it('answers a request without a token with Managed HSM challenge and an empty body', async () => {
    const r = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: null });
    expect(r.status).toBe(401);
    expect(r.text).toBe('');
    expect(r.headers['www-authenticate']).toBe(
      `Bearer authorization="${info.authorityHost}/${info.tenantId}", resource="https://managedhsm.${info.vaultDomain}:${port}"`,
    );
  });

  it("refuses a vault's token: the audience is Managed HSM's", async () => {
    const vaultToken = await tokenOf(adminSecretCredential(info), `${info.audience}/.default`);
    const r = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: vaultToken });
    expect(r.status).toBe(401);
    expect(r.text).toBe('');
    // Tokens for the pool's own resource, with and without its port, are the pool's too.
    for (const scope of [`https://managedhsm.${info.vaultDomain}/.default`, `https://managedhsm.${info.vaultDomain}:${port}/.default`]) {
      const ok = await raw('GET', at('/providers/Microsoft.Authorization/roleDefinitions'), {
        token: await tokenOf(adminSecretCredential(info), scope),
      });
      expect(ok.status, scope).toBe(200);
    }
  });

  it('is reached by its name under managedhsm.<vault domain> too, and a host no live pool serves is a 404', async () => {
    const byName = await raw('GET', at('/providers/Microsoft.Authorization/roleDefinitions'), {
      token: adminToken,
      host: `${name}.managedhsm.${info.vaultDomain}:${port}`,
    });
    expect(byName.status).toBe(200);
    const missing = await raw('GET', at('/providers/Microsoft.Authorization/roleDefinitions'), {
      token: adminToken,
      host: `nosuchpool1.managedhsm.${info.vaultDomain}:${port}`,
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: { code: 'ManagedHsmNotFound', message: 'No managed HSM pool is served at this host name.' } });
    // The default vault's port serves no pool.
    const vaultPort = await raw('GET', `${info.vaultUrl}/providers/Microsoft.Authorization/roleDefinitions?${API}`, { token: adminToken });
    expect(vaultPort.status).toBe(404);
    expect(vaultPort.json.error.code).toBe('ManagedHsmNotFound');
  });
});

describe("a pool's local RBAC", () => {
  it('lists the initial administrator as Administrator at /, in the service shape', async () => {
    const r = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: adminToken });
    expect(r.status).toBe(200);
    expect(r.json.nextLink).toBeUndefined();
    expect(r.json.value).toEqual([
      {
        id: expect.stringMatching(/^\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/),
        name: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'Microsoft.Authorization/roleAssignments',
        properties: { scope: '/', roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.administrator), principalId: info.objectId },
      },
    ]);
  });

  it('grants a Crypto User at /keys (201), reads, filters and deletes it; the Crypto User is refused role writes', async () => {
    const assignment = randomUUID();
    const path = `/keys/providers/Microsoft.Authorization/roleAssignments/${assignment}`;
    const body = { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoUser), principalId: userObjectId } };
    const created = await raw('PUT', at(path), { token: adminToken, body });
    expect(created.status).toBe(201);
    const expected = {
      id: `/keys/providers/Microsoft.Authorization/roleAssignments/${assignment}`,
      name: assignment,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: { scope: '/keys', roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoUser), principalId: userObjectId },
    };
    expect(created.json).toEqual(expected);
    expect((await raw('PUT', at(path), { token: adminToken, body })).status).toBe(201);
    expect((await raw('GET', at(path), { token: adminToken })).json).toEqual(expected);
    const filtered = await raw(
      'GET',
      at(`/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${userObjectId}'`)}`),
      {
        token: adminToken,
      },
    );
    expect(filtered.json.value).toEqual([expected]);

    // The Crypto User reads assignments (roleAssignments/read/action), but writes none.
    expect((await raw('GET', at(path), { token: userToken })).status).toBe(200);
    const refused = await raw('PUT', at(`/keys/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), { token: userToken, body });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({
      error: {
        code: 'AccessDenied',
        message: `Not authorized to access Microsoft.KeyVault/managedHsm/roleAssignments/write/action on /keys (Activity ID: ${refused.headers['x-ms-request-id']})`,
      },
    });
    const deleted = await raw('DELETE', at(path), { token: adminToken });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual(expected);
    const gone = await raw('GET', at(path), { token: adminToken });
    expect(gone.status).toBe(404);
    expect(gone.json.error).toEqual({ code: 'RoleAssignmentNotFound', message: 'Requested role assignment not found' });
  });

  it('denies by default: a principal with no role in the pool reads nothing', async () => {
    const r = await raw('GET', at('/providers/Microsoft.Authorization/roleDefinitions'), { token: rolelessToken });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('AccessDenied');
    expect(r.json.error.message).toContain('Microsoft.KeyVault/managedHsm/roleDefinitions/read/action on /');
  });

  it('answers at a key scope, and puts, reads and deletes a custom role', async () => {
    const assignment = randomUUID();
    const keyPath = `/keys/key-1/providers/Microsoft.Authorization/roleAssignments/${assignment}`;
    const granted = await raw('PUT', at(keyPath), {
      token: adminToken,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoServiceEncryptionUser), principalId: userObjectId } },
    });
    expect(granted.status).toBe(201);
    expect(granted.json.id).toBe(`/keys/key-1/providers/Microsoft.Authorization/roleAssignments/${assignment}`);
    expect(granted.json.properties.scope).toBe('/keys/key-1');
    expect((await raw('DELETE', at(keyPath), { token: adminToken })).status).toBe(200);

    const role = randomUUID();
    const rolePath = `/providers/Microsoft.Authorization/roleDefinitions/${role}`;
    const put = await raw('PUT', at(rolePath), {
      token: adminToken,
      body: {
        properties: {
          roleName: 'Wrapper',
          description: 'wraps',
          type: 'CustomRole',
          permissions: [{ dataActions: ['Microsoft.KeyVault/managedHsm/keys/wrap/action'] }],
          assignableScopes: ['/keys'],
        },
      },
    });
    expect(put.status).toBe(201);
    expect(put.json).toEqual({
      id: ROLE_DEFINITION(role),
      name: role,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName: 'Wrapper',
        description: 'wraps',
        type: 'CustomRole',
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/managedHsm/keys/wrap/action'], notDataActions: [] }],
        assignableScopes: ['/keys'],
      },
    });
    const listed = await raw('GET', at(`/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Wrapper'")}`), {
      token: adminToken,
    });
    expect(listed.json.value).toEqual([put.json]);
    const all = await raw('GET', at('/keys/providers/Microsoft.Authorization/roleDefinitions'), { token: adminToken });
    expect(all.json.value.map((d: { properties: { roleName: string } }) => d.properties.roleName)).toContain('Managed HSM Crypto User');
    expect((await raw('DELETE', at(rolePath), { token: adminToken })).json).toEqual(put.json);
    expect((await raw('GET', at(rolePath), { token: adminToken })).status).toBe(404);
  });

  it('refuses bad paths and bodies with precise 400s', async () => {
    const notGuid = await raw('PUT', at('/providers/Microsoft.Authorization/roleAssignments/not-a-guid'), {
      token: adminToken,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoUser), principalId: userObjectId } },
    });
    expect(notGuid.status).toBe(400);
    expect(notGuid.json.error).toEqual({ code: 'BadParameter', message: 'Role assignment name must be a GUID' });
    const badScope = await raw('GET', at('/keys/bad%20name!/providers/Microsoft.Authorization/roleAssignments'), { token: adminToken });
    expect(badScope.status).toBe(400);
    expect(badScope.json.error.code).toBe('BadParameter');
    const malformed = await raw('PUT', at(`/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), {
      token: adminToken,
      body: '{"properties":',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('BadParameter');
    const noRole = await raw('PUT', at(`/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), {
      token: adminToken,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(randomUUID()), principalId: userObjectId } },
    });
    expect(noRole.status).toBe(400);
    const noVersion = await raw('GET', `${hsmUri}providers/Microsoft.Authorization/roleAssignments`, { token: adminToken });
    expect(noVersion.status).toBe(400);
  });

  it("audits every request in the pool's partition, answered or refused", async () => {
    const ok = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: adminToken });
    const refused = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: rolelessToken });
    const unauthenticated = await raw('GET', at('/providers/Microsoft.Authorization/roleAssignments'), { token: null });
    const resourceId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${name}`;
    for (const [r, status] of [
      [ok, 200],
      [refused, 403],
      [unauthenticated, 401],
    ] as const) {
      const [item] = await waitForAuditItems(String(r.headers['x-ms-request-id']));
      expect(item, String(status)).toMatchObject({
        vault: { S: `managedhsms/${name}` },
        operationName: { S: 'RoleAssignmentList' },
        httpStatusCode: { N: String(status) },
        resourceId: { S: resourceId },
      });
    }
  });
});

describe("a pool's settings", () => {
  it('answers its one setting, takes a boolean string, and refuses anything else', async () => {
    const setting = { name: 'AllowKeyManagementOperationsThroughARM', value: 'false', type: 'boolean' };
    expect((await raw('GET', at('/settings'), { token: adminToken })).json).toEqual({ settings: [setting] });
    const patched = await raw('PATCH', at('/settings/allowkeymanagementoperationsthroughARM'), { token: adminToken, body: { value: 'TRUE' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toEqual({ ...setting, value: 'true' });
    expect((await raw('GET', at(`/settings/${setting.name}`), { token: adminToken })).json).toEqual({ ...setting, value: 'true' });
    const notBoolean = await raw('PATCH', at(`/settings/${setting.name}`), { token: adminToken, body: { value: 'yes' } });
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.json.error).toEqual({
      code: 'BadParameter',
      message: `The value of the setting '${setting.name}' is a boolean: 'true' or 'false'.`,
    });
    const notString = await raw('PATCH', at(`/settings/${setting.name}`), { token: adminToken, body: { value: true } });
    expect(notString.status).toBe(400);
    // Settings came with 7.4 (its preview, which the Python client sends).
    const older = await raw('GET', `${hsmUri}settings?api-version=7.3`, { token: adminToken });
    expect(older.status).toBe(400);
    expect(older.json.error.code).toBe('BadParameter');
    const unknown = await raw('GET', at('/settings/NoSuch'), { token: adminToken });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('SettingNotFound');
    // Settings are the Administrator's: a Crypto User (granted here at /) holds no settings DataAction.
    const grant = `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    await raw('PUT', at(grant), {
      token: adminToken,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoUser), principalId: userObjectId } },
    });
    const refused = await raw('PATCH', at(`/settings/${setting.name}`), { token: userToken, body: { value: 'false' } });
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toBe(
      `Not authorized to access Microsoft.KeyVault/managedHsm/settings/write/action on / (Activity ID: ${refused.headers['x-ms-request-id']})`,
    );
    await raw('DELETE', at(grant), { token: adminToken });
    expect((await raw('GET', at('/settings'), { token: adminToken })).json.settings[0].value).toBe('true');
  });
});

describe("a pool's end", () => {
  it('a pool closed to public networks answers 403, a soft-deleted one 404, and its purge removes its RBAC and its settings', async () => {
    const other = uniqueName('pdq').replace(/-/g, '').slice(0, 24);
    const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, other, {
      location: LOCATION,
      sku: { family: 'B', name: 'Standard_B1' },
      properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId, userObjectId] },
    });
    const uri = pool.properties!.hsmUri!;
    const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
    const store = new DynamoHsmRbacStore(dynamo, info.tables.objects);
    const settingsStore = new DynamoPoolSettingsStore(dynamo, info.tables.objects);
    try {
      expect((await store.assignments(other)).map((a) => a.principalId).sort()).toEqual([info.objectId, userObjectId].sort());
      // The second administrator, too, holds Administrator: it may write roles.
      const written = await raw('PUT', `${uri}providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${API}`, {
        token: userToken,
        body: { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoAuditor), principalId: randomUUID() } },
      });
      expect(written.status).toBe(201);
      const patched = await raw('PATCH', `${uri}settings/AllowKeyManagementOperationsThroughARM?${API}`, {
        token: adminToken,
        body: { value: 'true' },
      });
      expect(patched.status).toBe(200);
      expect(await settingsStore.values(other)).toEqual({ AllowKeyManagementOperationsThroughARM: 'true' });
      // Closed to public networks, the pool answers nothing, as a vault does (once the warm record expires).
      await pools.beginUpdateAndWait(info.resourceGroup, other, { properties: { publicNetworkAccess: 'Disabled' } });
      await expect
        .poll(async () => (await raw('GET', `${uri}settings?${API}`, { token: adminToken })).json?.error?.innererror?.code, {
          timeout: 15_000,
          interval: 500,
        })
        .toBe('ForbiddenByConnection');
      await pools.beginDeleteAndWait(info.resourceGroup, other);
      // The management plane's delete reaches a warm data plane within its cache's lifetime (10 s).
      await expect
        .poll(async () => (await raw('GET', `${uri}providers/Microsoft.Authorization/roleAssignments?${API}`, { token: adminToken })).status, {
          timeout: 15_000,
          interval: 500,
        })
        .toBe(404);
      await pools.beginPurgeDeletedAndWait(other, LOCATION);
      expect(await store.assignments(other)).toEqual([]);
      expect(await settingsStore.values(other)).toEqual({});
    } finally {
      dynamo.destroy();
      await pools.beginDeleteAndWait(info.resourceGroup, other).catch(() => undefined);
      await pools.beginPurgeDeletedAndWait(other, LOCATION).catch(() => undefined);
    }
  }, 60_000);
});
