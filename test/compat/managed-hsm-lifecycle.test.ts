import { randomUUID } from 'node:crypto';
import { KeyVaultManagementClient, type ManagedHsm } from '@azure/arm-keyvault';
import { ResourceManagementClient } from '@azure/arm-resources';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoPoolStore } from '../../lib/aws/dynamo-managed-hsm-pools.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { waitForAuditItems } from '../support/audit.ts';
import { adminSecretCredential, localStack, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * Managed HSM pools' life cycle through the unmodified KeyVaultManagementClient (its managedHsms
 * operations, long-running ones through their pollers) against the local stack: names, create, get,
 * update, both lists, soft delete, the deleted pools, recover, purge, the roles that may manage pools,
 * and ARM's refusals of bad input, each of which changes nothing.
 */
const info = localStack();
const owner = adminSecretCredential(info);
const { vaults: management, authorization } = managementClients(info);
const pools = management.managedHsms;
const LOCATION = 'eastus';
const API_VERSION = '2026-02-01';

const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);

/** The pools a test made, deleted and purged after it: each holds one of the stack's shared local endpoints until purged. */
const made = new Map<string, string>();
afterEach(async () => {
  for (const [name, group] of made) {
    await pools.beginDeleteAndWait(group, name).catch(() => undefined);
    await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
  }
  made.clear();
});

function definition(properties: Partial<NonNullable<ManagedHsm['properties']>> = {}, extra: Partial<ManagedHsm> = {}): ManagedHsm {
  return {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId], ...properties },
    ...extra,
  };
}

async function create(name: string, properties: Partial<NonNullable<ManagedHsm['properties']>> = {}, group = info.resourceGroup, client = pools) {
  made.set(name, group);
  return client.beginCreateOrUpdateAndWait(group, name, definition(properties));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function refusal(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message?: string }> {
  return promise.then(
    () => ({}),
    (e: { statusCode?: number; code?: string; message?: string }) => e,
  );
}

const poolPath = (name: string, apiVersion = API_VERSION) =>
  `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${name}?api-version=${apiVersion}`;

async function armRequest(method: string, path: string, body?: unknown) {
  const token = (await owner.getToken(info.managementScope))!.token;
  const response = await fetch(`${info.managementUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  return { status: response.status, requestId: response.headers.get('x-ms-request-id') ?? '', json };
}

async function withStores<T>(use: (stores: { pools: DynamoPoolStore; vaults: DynamoVaultStore }) => Promise<T>): Promise<T> {
  const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    return await use({ pools: new DynamoPoolStore(dynamo, info.tables.objects), vaults: new DynamoVaultStore(dynamo, info.tables.objects) });
  } finally {
    dynamo.destroy();
  }
}

describe('managed HSM pool names', () => {
  it('checkMhsmNameAvailability answers free, taken and invalid names, and a vault name does not take a pool name', async () => {
    const name = poolName('mhsmname');
    expect(await pools.checkMhsmNameAvailability({ name })).toEqual({ nameAvailable: true });
    // Vaults and pools live under different subdomains: the default vault's name is free for a pool.
    expect(await pools.checkMhsmNameAvailability({ name: info.vaultName })).toEqual({ nameAvailable: true });
    await create(name);
    const taken = await pools.checkMhsmNameAvailability({ name: name.toUpperCase() });
    expect(taken).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
    expect(taken.message).toContain(name.toUpperCase());
    expect(await pools.checkMhsmNameAvailability({ name: '1-bad--name' })).toMatchObject({ nameAvailable: false, reason: 'AccountNameInvalid' });
    // Soft-deleted, the name stays taken until the purge.
    await pools.beginDeleteAndWait(info.resourceGroup, name);
    expect(await pools.checkMhsmNameAvailability({ name })).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
    await pools.beginPurgeDeletedAndWait(name, LOCATION);
    expect(await pools.checkMhsmNameAvailability({ name })).toEqual({ nameAvailable: true });
  });
});

describe('the managed HSM pool life cycle', () => {
  it('creates a provisioned, not yet activated pool with its own hsmUri, and reads it back', async () => {
    const name = poolName('mhsmlife');
    const pool = await create(name, { softDeleteRetentionInDays: 14 });
    expect(pool).toMatchObject({
      id: `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${name}`,
      name,
      type: 'Microsoft.KeyVault/managedHSMs',
      location: LOCATION,
      sku: { family: 'B', name: 'Standard_B1' },
      tags: {},
      properties: {
        tenantId: info.tenantId,
        initialAdminObjectIds: [info.objectId],
        enableSoftDelete: true,
        softDeleteRetentionInDays: 14,
        enablePurgeProtection: false,
        publicNetworkAccess: 'Enabled',
        provisioningState: 'Succeeded',
        securityDomainProperties: { activationStatus: 'NotActivated' },
      },
    });
    expect(pool.properties?.securityDomainProperties?.activationStatusMessage).toContain('download the security domain');
    // Locally a pool gets a loopback endpoint of its own from the vaults' pool, claimed in its name only.
    const hsmUri = pool.properties!.hsmUri!;
    expect(hsmUri).toMatch(/^https:\/\/localhost:\d+\/$/);
    const host = new URL(hsmUri).host;
    await withStores(async (stores) => {
      expect(await stores.pools.poolAtEndpoint(host)).toBe(name);
      expect(await stores.vaults.vaultAtEndpoint(host)).toBeUndefined();
    });
    // Until the pool's data plane is served there, its endpoint serves no vault either.
    const onEndpoint = await fetch(`${hsmUri}secrets?api-version=7.5`);
    expect(onEndpoint.status).toBe(404);
    expect(await pools.get(info.resourceGroup, name)).toEqual(pool);
  });

  it('updates tags and purge protection through PATCH and PUT, keeping what was not named', async () => {
    const name = poolName('mhsmupd');
    const created = await create(name);
    const patched = await pools.beginUpdateAndWait(info.resourceGroup, name, { tags: { team: 'crypto' } });
    expect(patched.tags).toEqual({ team: 'crypto' });
    expect(patched.properties).toMatchObject({ hsmUri: created.properties!.hsmUri, softDeleteRetentionInDays: 90, enablePurgeProtection: false });
    const replaced = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, definition({ publicNetworkAccess: 'Disabled' }));
    expect(replaced.properties).toMatchObject({ publicNetworkAccess: 'Disabled', initialAdminObjectIds: [info.objectId] });
    expect(replaced.tags).toEqual({ team: 'crypto' });
    expect((await pools.get(info.resourceGroup, name)).properties?.publicNetworkAccess).toBe('Disabled');
    // Purge protection, once on, stays on.
    expect(
      (await pools.beginUpdateAndWait(info.resourceGroup, name, { properties: { enablePurgeProtection: true } })).properties?.enablePurgeProtection,
    ).toBe(true);
    expect(await refusal(pools.beginUpdateAndWait(info.resourceGroup, name, { properties: { enablePurgeProtection: false } }))).toMatchObject({
      statusCode: 400,
      code: 'BadRequest',
    });
    // A protected pool cannot be purged before its retention ends: it is handed back as an operator would.
    await pools.beginDeleteAndWait(info.resourceGroup, name);
    expect(await refusal(pools.beginPurgeDeletedAndWait(name, LOCATION))).toMatchObject({ statusCode: 409, code: 'Conflict' });
    await withStores(async (stores) => {
      const pool = (await stores.pools.getPool(name))!;
      await stores.pools.removePool(pool);
      await stores.pools.releaseEndpoint(new URL(pool.hsmUri).host, name);
    });
    made.delete(name);
  });

  it('lists pools by resource group and by subscription, page by page', async () => {
    const group = uniqueName('mhsm-list');
    const resources = new ResourceManagementClient(owner, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    });
    await resources.resourceGroups.createOrUpdate(group, { location: LOCATION });
    const names = [poolName('mhsmlsta'), poolName('mhsmlstb'), poolName('mhsmlstc')];
    for (const name of names) await create(name, {}, group);
    expect((await collect(pools.listByResourceGroup(group))).map((p) => p.name)).toEqual([...names].sort());
    // Pages of one: the client follows each nextLink.
    expect((await collect(pools.listByResourceGroup(group, { top: 1 }))).map((p) => p.name)).toEqual([...names].sort());
    const inSubscription = (await collect(pools.listBySubscription())).map((p) => p.name);
    for (const name of names) expect(inSubscription).toContain(name);
    expect((await collect(pools.listByResourceGroup(info.resourceGroup))).map((p) => p.name)).not.toContain(names[0]);
    // A group that holds pools is not deleted with them.
    expect(await refusal(resources.resourceGroups.delete(group))).toMatchObject({ statusCode: 409, code: 'ResourceGroupNotEmpty' });
    expect((await collect(pools.listByResourceGroup(group))).length).toBe(3);
  });

  it('soft-deletes a pool, shows it among the deleted, recovers it with its hsmUri, and purges it', async () => {
    const name = poolName('mhsmdel');
    const pool = await create(name, { softDeleteRetentionInDays: 7 });
    await pools.beginDeleteAndWait(info.resourceGroup, name);
    expect(await refusal(pools.get(info.resourceGroup, name))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect((await collect(pools.listByResourceGroup(info.resourceGroup))).map((p) => p.name)).not.toContain(name);
    // Deleting again finds nothing: 204, which the poller takes as done.
    await pools.beginDeleteAndWait(info.resourceGroup, name);

    const deleted = await pools.getDeleted(name, LOCATION);
    expect(deleted).toMatchObject({
      id: `/subscriptions/${info.subscriptionId}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedManagedHSMs/${name}`,
      name,
      type: 'Microsoft.KeyVault/deletedManagedHSMs',
      properties: { mhsmId: pool.id, location: LOCATION, purgeProtectionEnabled: false, tags: {} },
    });
    const { deletionDate, scheduledPurgeDate } = deleted.properties!;
    expect(scheduledPurgeDate!.getTime() - deletionDate!.getTime()).toBe(7 * 86_400_000);
    expect((await collect(pools.listDeleted())).map((p) => p.name)).toContain(name);
    expect(await refusal(pools.getDeleted(name, 'westeurope'))).toMatchObject({ statusCode: 404 });
    // A deleted pool's name is neither free nor creatable: only recover or purge.
    expect(await refusal(pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, definition()))).toMatchObject({ statusCode: 409 });

    const recovered = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, definition({ createMode: 'recover' }));
    expect(recovered.properties).toMatchObject({ hsmUri: pool.properties!.hsmUri, softDeleteRetentionInDays: 7, provisioningState: 'Succeeded' });
    expect((await pools.get(info.resourceGroup, name)).id).toBe(pool.id);
    expect((await collect(pools.listDeleted())).map((p) => p.name)).not.toContain(name);

    await pools.beginDeleteAndWait(info.resourceGroup, name);
    await pools.beginPurgeDeletedAndWait(name, LOCATION);
    made.delete(name);
    expect(await refusal(pools.getDeleted(name, LOCATION))).toMatchObject({ statusCode: 404 });
    // The purge handed the endpoint back.
    await withStores(async (stores) => expect(await stores.pools.poolAtEndpoint(new URL(pool.properties!.hsmUri!).host)).toBeUndefined());
    expect(await refusal(pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, definition({ createMode: 'recover' })))).toMatchObject({
      statusCode: 404,
    });
  });

  it('lets a pool share its name with a vault', async () => {
    const pool = await create(info.vaultName.length <= 24 ? info.vaultName : poolName('mhsmvault'));
    expect(pool.properties?.hsmUri).toMatch(/^https:\/\//);
    expect((await management.vaults.get(info.resourceGroup, info.vaultName)).name).toBe(info.vaultName);
  });
});

describe('bad input is refused with ARM errors and changes nothing', () => {
  it('refuses bad names, missing administrators, bad retention and SKUs, wrong api-versions and malformed JSON', async () => {
    const name = poolName('mhsmbad');
    const body = definition();
    const cases: [string, string, unknown, number, string][] = [
      ['bad name', poolPath('1-bad--name'), body, 400, 'BadRequest'],
      ['no administrators', poolPath(name), definition({ initialAdminObjectIds: [] }), 400, 'BadRequest'],
      ['administrators left out', poolPath(name), { ...body, properties: { tenantId: info.tenantId } }, 400, 'BadRequest'],
      ['an administrator that is no object id', poolPath(name), definition({ initialAdminObjectIds: ['admin'] }), 400, 'BadRequest'],
      ['retention too short', poolPath(name), definition({ softDeleteRetentionInDays: 6 }), 400, 'BadRequest'],
      ['retention too long', poolPath(name), definition({ softDeleteRetentionInDays: 91 }), 400, 'BadRequest'],
      ['unknown sku', poolPath(name), { ...body, sku: { family: 'B', name: 'Premium_P1' } }, 400, 'BadRequest'],
      ['sku of another family', poolPath(name), { ...body, sku: { family: 'C', name: 'Standard_B1' } }, 400, 'BadRequest'],
      ['no sku', poolPath(name), { ...body, sku: undefined }, 400, 'BadRequest'],
      ['no location', poolPath(name), { ...body, location: undefined }, 400, 'LocationRequired'],
      ['another tenant', poolPath(name), definition({ tenantId: randomUUID() }), 400, 'BadRequest'],
      ['soft delete off', poolPath(name), definition({ enableSoftDelete: false }), 400, 'BadRequest'],
      [
        'a wrongly typed field',
        poolPath(name),
        { ...body, properties: { ...body.properties, softDeleteRetentionInDays: 'ninety' } },
        400,
        'BadRequest',
      ],
      ['malformed JSON', poolPath(name), '{"location": "eastus",', 400, 'BadRequest'],
      ['unknown api-version', poolPath(name, '2010-01-01'), body, 400, 'BadRequest'],
    ];
    for (const [what, path, payload, status, code] of cases) {
      const answer = await armRequest('PUT', path, payload);
      expect({ what, status: answer.status }).toEqual({ what, status });
      expect(answer.json?.error, what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      if (code !== 'BadRequest') expect(answer.json?.error?.code, what).toBe(code);
    }
    expect(await pools.checkMhsmNameAvailability({ name })).toEqual({ nameAvailable: true });
    // A refused change to a live pool leaves it as it was.
    await create(name);
    for (const change of [
      { properties: { softDeleteRetentionInDays: 30 } },
      { sku: { family: 'B', name: 'Custom_B32' } },
      { location: 'westeurope' },
    ]) {
      expect((await armRequest('PATCH', poolPath(name), change)).status).toBe(400);
    }
    expect((await armRequest('PATCH', poolPath(name), { properties: { initialAdminObjectIds: [randomUUID()] } })).status).toBe(400);
    const unchanged = await pools.get(info.resourceGroup, name);
    expect(unchanged).toMatchObject({ location: LOCATION, sku: { name: 'Standard_B1' }, properties: { softDeleteRetentionInDays: 90 } });
    expect(unchanged.properties?.initialAdminObjectIds).toEqual([info.objectId]);
  });

  it('audits each request, allowed or refused, in the subscription records with the pool resource id', async () => {
    const name = poolName('mhsmaudit');
    made.set(name, info.resourceGroup);
    const created = await armRequest('PUT', poolPath(name), definition());
    expect(created.status).toBe(200);
    const refused = await armRequest('PUT', poolPath(name), definition({ softDeleteRetentionInDays: 1 }));
    expect(refused.status).toBe(400);
    const resourceId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${name}`;
    for (const [requestId, status] of [
      [created.requestId, '200'],
      [refused.requestId, '400'],
    ] as const) {
      const [item] = await waitForAuditItems(requestId);
      expect(item).toMatchObject({
        vault: { S: `subscriptions/${info.subscriptionId.toLowerCase()}` },
        operationName: { S: 'ManagedHsmPut' },
        httpStatusCode: { N: status },
        resourceId: { S: resourceId },
      });
    }
  });
});

describe('who may manage pools', () => {
  it('lets a Contributor manage pools in its resource group, and refuses a Key Vault Contributor with 403 AuthorizationFailed', async () => {
    const resources = new ResourceManagementClient(owner, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    });
    const [contributorGroup, keyVaultGroup] = [uniqueName('mhsm-contrib'), uniqueName('mhsm-kvcontrib')];
    const contributorScope = (await resources.resourceGroups.createOrUpdate(contributorGroup, { location: LOCATION })).id!;
    const keyVaultScope = (await resources.resourceGroups.createOrUpdate(keyVaultGroup, { location: LOCATION })).id!;
    const grants: [string, string][] = [
      [contributorScope, roleIds.contributor],
      [keyVaultScope, roleIds.keyVaultContributor],
    ];
    const assignments: [string, string][] = [];
    for (const [scope, role] of grants) {
      const assignment = randomUUID();
      await authorization.roleAssignments.create(scope, assignment, {
        roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId: info.unprivileged.objectId,
        principalType: 'ServicePrincipal',
      });
      assignments.push([scope, assignment]);
    }
    try {
      const app = new KeyVaultManagementClient(unprivilegedCredential(info), info.subscriptionId, {
        endpoint: info.managementUrl,
        credentials: { scopes: [info.managementScope] },
      }).managedHsms;
      const name = poolName('mhsmrole');
      const pool = await create(name, {}, contributorGroup, app);
      expect(pool.id).toBe(`${contributorScope}/providers/Microsoft.KeyVault/managedHSMs/${name}`);
      expect((await app.beginUpdateAndWait(contributorGroup, name, { tags: { by: 'contributor' } })).tags).toEqual({ by: 'contributor' });
      expect((await collect(app.listByResourceGroup(contributorGroup))).map((p) => p.name)).toEqual([name]);

      // Key Vault Contributor manages vaults, not pools: its notActions exclude Microsoft.KeyVault/managedHsms/*.
      const other = poolName('mhsmkvc');
      for (const refused of [app.beginCreateOrUpdateAndWait(keyVaultGroup, other, definition()), app.get(keyVaultGroup, other)]) {
        const error = await refusal(refused);
        expect(error).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
        expect(error.message).toContain('Microsoft.KeyVault/managedHSMs/');
      }
      // The pager keeps the status and code of the refusal, not its message.
      expect(await refusal(collect(app.listByResourceGroup(keyVaultGroup)))).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
      expect(await pools.checkMhsmNameAvailability({ name: other })).toEqual({ nameAvailable: true });
      // Outside its group the Contributor holds nothing either.
      expect(await refusal(app.get(info.resourceGroup, name))).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    } finally {
      for (const [scope, assignment] of assignments) await authorization.roleAssignments.delete(scope, assignment);
    }
  });
});
