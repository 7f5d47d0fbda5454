import { randomUUID } from 'node:crypto';
import { type AccessPolicyEntry, KeyVaultManagementClient, type Vault } from '@azure/arm-keyvault';
import { ResourceManagementClient } from '@azure/arm-resources';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import { adminSecretCredential, adminToken, localStack, rolelessCredential, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * The vault lifecycle through the unmodified KeyVaultManagementClient against the local stack: name
 * checks, create, get, update, the three lists, soft delete, recover, purge, access policies, and ARM's
 * refusals, each shown on the data plane through SecretClient where it has an effect there.
 */
const info = localStack();
const owner = adminSecretCredential(info);
const { vaults: management, authorization } = managementClients(info);
const vaults = management.vaults;
const LOCATION = 'eastus';

const vaultName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
const secrets = (vaultUri: string, credential = owner) =>
  new SecretClient(vaultUri, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

/**
 * The vaults a test made, deleted and purged after it: each holds one of the stack's few local
 * endpoints (8, shared by every test file) until it is purged. So each test keeps at most one vault at
 * a time; the one purge-protected vault, which cannot be purged, hands its endpoint back.
 */
const made = new Set<string>();
afterEach(async () => {
  for (const name of made) {
    await vaults.delete(info.resourceGroup, name).catch(() => undefined);
    await vaults.purgeDeleted(name, LOCATION).catch(() => undefined);
  }
  made.clear();
});

async function create(name: string, properties: Partial<Vault['properties']> = {}, sku: 'standard' | 'premium' = 'standard'): Promise<Vault> {
  made.add(name);
  return vaults.createOrUpdate(info.resourceGroup, name, {
    location: LOCATION,
    properties: { tenantId: info.tenantId, sku: { family: 'A', name: sku }, enableRbacAuthorization: true, ...properties },
  });
}

/** Key Vault Administrator on the vault for the administrator, so that it may use the data plane. */
async function grantAdministrator(vault: Vault): Promise<void> {
  await authorization.roleAssignments.create(vault.id!, randomUUID(), {
    roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.administrator}`,
    principalId: info.objectId,
    principalType: 'ServicePrincipal',
  });
}

/**
 * A purge-protected vault stays deleted for its retention, holding its local endpoint, and the stack
 * has sixteen for the whole suite: the endpoint goes back to the pool as only an operator could hand it
 * back (no request reached this vault's endpoint, so no gateway cache still names it).
 */
async function handBackEndpoint(name: string, vaultUri: string): Promise<void> {
  const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    const store = new DynamoVaultStore(dynamo, info.tables.objects);
    const host = new URL(vaultUri).host;
    await store.releaseEndpoint(host, name);
    expect(await store.vaultAtEndpoint(host)).toBeUndefined();
  } finally {
    dynamo.destroy();
  }
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

async function managementToken(credential = owner): Promise<string> {
  return (await credential.getToken(info.managementScope))!.token;
}

const vaultPath = (name: string) =>
  `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${name}?api-version=2026-02-01`;

async function armRequest(method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${info.managementUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token ?? (await managementToken())}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } };
}

describe('vault names', () => {
  it('checkNameAvailability answers free, taken and invalid names', async () => {
    const free = vaultName('free');
    expect(await vaults.checkNameAvailability({ name: free, type: 'Microsoft.KeyVault/vaults' })).toMatchObject({ nameAvailable: true });

    const taken = await vaults.checkNameAvailability({ name: info.vaultName, type: 'Microsoft.KeyVault/vaults' });
    expect(taken).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
    expect(taken.message).toContain(info.vaultName);

    const invalid = await vaults.checkNameAvailability({ name: '1-bad--name', type: 'Microsoft.KeyVault/vaults' });
    expect(invalid).toMatchObject({ nameAvailable: false, reason: 'AccountNameInvalid' });
  });
});

describe('the vault lifecycle', () => {
  it('creates standard and premium vaults whose vaultUri works in SecretClient', async () => {
    for (const sku of ['standard', 'premium'] as const) {
      const name = vaultName(`life${sku.slice(0, 3)}`);
      const vault = await create(name, {}, sku);
      expect(vault).toMatchObject({
        id: `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${name}`,
        name,
        type: 'Microsoft.KeyVault/vaults',
        location: LOCATION,
        properties: {
          tenantId: info.tenantId,
          sku: { family: 'A', name: sku },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          provisioningState: 'Succeeded',
        },
      });
      expect(vault.properties.vaultUri).toMatch(/^https:\/\//);
      await grantAdministrator(vault);
      const client = secrets(vault.properties.vaultUri!);
      await client.setSecret('hello', `from ${sku}`);
      expect((await client.getSecret('hello')).value).toBe(`from ${sku}`);

      const got = await vaults.get(info.resourceGroup, name);
      expect(got.properties).toMatchObject({ sku: { name: sku }, vaultUri: vault.properties.vaultUri });
      // One vault at a time: the local stack has few endpoints for the whole suite.
      await vaults.delete(info.resourceGroup, name);
      await vaults.purgeDeleted(name, LOCATION);
      made.delete(name);
    }
  });

  it('updates tags and lists the vault by resource group, by subscription and as a resource', async () => {
    const name = vaultName('listed');
    const vault = await create(name);
    const updated = await vaults.update(info.resourceGroup, name, { tags: { team: 'payments' } });
    expect(updated.tags).toEqual({ team: 'payments' });
    expect(updated.properties.vaultUri).toBe(vault.properties.vaultUri);
    expect((await vaults.get(info.resourceGroup, name)).tags).toEqual({ team: 'payments' });

    const byGroup = await collect(vaults.listByResourceGroup(info.resourceGroup));
    expect(byGroup.find((v) => v.name === name)).toMatchObject({ id: vault.id, tags: { team: 'payments' } });
    expect(byGroup.some((v) => v.name === info.vaultName)).toBe(true);
    const bySubscription = await collect(vaults.listBySubscription());
    expect(bySubscription.find((v) => v.name === name)).toMatchObject({ id: vault.id });
    const resources = await collect(vaults.list());
    expect(resources.find((v) => v.name === name)).toMatchObject({ id: vault.id, type: 'Microsoft.KeyVault/vaults', tags: { team: 'payments' } });
  });

  it('deletes, shows the deleted vault, recovers it with its secrets, deletes and purges it, and frees the name', async () => {
    const name = vaultName('cycle');
    const vault = await create(name);
    await grantAdministrator(vault);
    const client = secrets(vault.properties.vaultUri!);
    await client.setSecret('kept', 'survives the deletion');

    await vaults.delete(info.resourceGroup, name);
    await expect(client.getSecret('kept')).rejects.toMatchObject({ statusCode: 404 });
    expect(await refusal(vaults.get(info.resourceGroup, name))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });

    const deleted = await vaults.getDeleted(name, LOCATION);
    expect(deleted).toMatchObject({
      name,
      type: 'Microsoft.KeyVault/deletedVaults',
      properties: { vaultId: vault.id, location: LOCATION },
    });
    expect(deleted.properties!.scheduledPurgeDate!.getTime()).toBeGreaterThan(deleted.properties!.deletionDate!.getTime());
    expect((await collect(vaults.listDeleted())).some((v) => v.name === name)).toBe(true);
    expect(await vaults.checkNameAvailability({ name, type: 'Microsoft.KeyVault/vaults' })).toMatchObject({ nameAvailable: false });
    // A soft-deleted name can only be recovered or purged.
    expect(await refusal(create(name))).toMatchObject({ statusCode: 409 });

    const recovered = await create(name, { createMode: 'recover' });
    expect(recovered.properties.vaultUri).toBe(vault.properties.vaultUri);
    expect((await client.getSecret('kept')).value).toBe('survives the deletion');
    expect((await collect(vaults.listDeleted())).some((v) => v.name === name)).toBe(false);

    await vaults.delete(info.resourceGroup, name);
    // Deleting what is already deleted answers 204, which the client takes as done.
    await vaults.delete(info.resourceGroup, name);
    await vaults.purgeDeleted(name, LOCATION);
    expect(await refusal(vaults.getDeleted(name, LOCATION))).toMatchObject({ statusCode: 404 });
    expect((await collect(vaults.listDeleted())).some((v) => v.name === name)).toBe(false);
    expect(await vaults.checkNameAvailability({ name, type: 'Microsoft.KeyVault/vaults' })).toMatchObject({ nameAvailable: true });
    // Nothing is left to recover.
    expect(await refusal(create(name, { createMode: 'recover' }))).toMatchObject({ statusCode: 404 });

    // The name makes a new, empty vault: the purged secrets are gone for good.
    const reborn = await create(name);
    await grantAdministrator(reborn);
    const fresh = secrets(reborn.properties.vaultUri!);
    await expect(fresh.getSecret('kept')).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
    expect(await collect(fresh.listDeletedSecrets())).toEqual([]);
  });

  it('answers a purge as a finished long-running operation: 202, Location and Azure-AsyncOperation, and its status Succeeded', async () => {
    const name = vaultName('lro');
    await create(name);
    await vaults.delete(info.resourceGroup, name);
    const purgePath = `/subscriptions/${info.subscriptionId}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedVaults/${name}/purge?api-version=2026-02-01`;
    const response = await fetch(`${info.managementUrl}${purgePath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await managementToken()}` },
    });
    expect(response.status).toBe(202);
    const location = response.headers.get('location')!;
    expect(response.headers.get('azure-asyncoperation')).toBe(location);
    expect(response.headers.get('retry-after')).toBe('0');
    const url = new URL(location);
    expect(url.origin).toBe(new URL(info.managementUrl).origin);
    const operationsPath = `/subscriptions/${info.subscriptionId}/providers/Microsoft.KeyVault/locations/${LOCATION}/operationResults/`;
    expect(url.pathname.startsWith(operationsPath)).toBe(true);
    expect(url.searchParams.get('api-version')).toBe('2026-02-01');
    const operationId = url.pathname.slice(operationsPath.length);

    // The purge was done before the 202: the deleted vault is gone already.
    expect(await refusal(vaults.getDeleted(name, LOCATION))).toMatchObject({ statusCode: 404 });
    const status = await armRequest('GET', `${url.pathname}${url.search}`);
    expect(status).toMatchObject({
      status: 200,
      json: { id: `${operationsPath}${operationId}`, name: operationId, status: 'Succeeded' },
    });
    const times = status.json as unknown as { startTime: string; endTime: string };
    expect(new Date(times.startTime).toISOString()).toBe(times.startTime);
    expect(Date.parse(times.endTime)).toBeGreaterThanOrEqual(Date.parse(times.startTime));

    // Only where it was started: another location, or an id never handed out, is OperationNotFound.
    const elsewhere = `/subscriptions/${info.subscriptionId}/providers/Microsoft.KeyVault/locations/westus/operationResults/${operationId}?api-version=2026-02-01`;
    expect(await armRequest('GET', elsewhere)).toMatchObject({ status: 404, json: { error: { code: 'OperationNotFound' } } });
    expect(await armRequest('GET', `${operationsPath}${randomUUID()}?api-version=2026-02-01`)).toMatchObject({
      status: 404,
      json: { error: { code: 'OperationNotFound' } },
    });
  });
});

describe('names, places and pages', () => {
  it('pages every list with $top, normalizes the location, and a PUT on a live vault answers it updated', async () => {
    // With the default vault, two vaults in the group: pages of one each.
    const spaced = vaultName('spaced');
    made.add(spaced);
    const created = await vaults.createOrUpdate(info.resourceGroup, spaced, {
      location: 'East US',
      properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true },
    });
    expect(created.location).toBe('eastus');
    const names = [info.vaultName, spaced];

    const paged = await collect(vaults.listBySubscription({ top: 1 }));
    expect(new Set(paged.map((v) => v.name)).size).toBe(paged.length);
    for (const name of names) expect(paged.some((v) => v.name === name)).toBe(true);
    const pagedGroup = await collect(vaults.listByResourceGroup(info.resourceGroup, { top: 1 }));
    expect(pagedGroup.map((v) => v.name).sort()).toEqual((await collect(vaults.listByResourceGroup(info.resourceGroup))).map((v) => v.name).sort());
    const pagedResources = await collect(vaults.list({ top: 1 }));
    for (const name of names) expect(pagedResources.some((v) => v.name === name)).toBe(true);

    const first = await armRequest('PUT', vaultPath(spaced), {
      location: LOCATION,
      tags: { again: 'yes' },
      properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'premium' } },
    });
    expect(first.status).toBe(200);
    const again = await vaults.get(info.resourceGroup, spaced);
    expect(again).toMatchObject({ tags: { again: 'yes' }, properties: { sku: { name: 'premium' }, vaultUri: created.properties.vaultUri } });
  });

  it('refuses a taken name in another resource group with VaultAlreadyExists', async () => {
    const group = uniqueName('vm-other');
    const resources = new ResourceManagementClient(owner, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    });
    await resources.resourceGroups.createOrUpdate(group, { location: LOCATION });
    const refused = await refusal(
      vaults.createOrUpdate(group, info.vaultName, {
        location: LOCATION,
        properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' } },
      }),
    );
    expect(refused).toMatchObject({ statusCode: 409, code: 'VaultAlreadyExists' });
    expect(await collect(vaults.listByResourceGroup(group))).toEqual([]);
    expect((await vaults.get(info.resourceGroup, info.vaultName)).name).toBe(info.vaultName);
    // A vault in a group that does not exist.
    const missing = await refusal(
      vaults.createOrUpdate(uniqueName('vm-missing'), vaultName('nogroup'), {
        location: LOCATION,
        properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' } },
      }),
    );
    expect(missing).toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
  });
});

describe("bad input gets ARM's error shape and changes nothing", () => {
  it('refuses bad names, retention out of range, unknown skus, soft delete off and purge protection off', async () => {
    const name = vaultName('strict');
    await create(name, { enablePurgeProtection: true });
    await vaults.update(info.resourceGroup, name, { tags: { keep: 'me' } });
    const before = await vaults.get(info.resourceGroup, name);

    const body = (properties: Record<string, unknown>) => ({
      location: LOCATION,
      properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' }, ...properties },
    });
    const cases: { path: string; method: string; body: unknown; code: string }[] = [
      { method: 'PUT', path: vaultPath('1-bad--name'), body: body({}), code: 'VaultNameNotValid' },
      { method: 'PUT', path: vaultPath(name), body: body({ softDeleteRetentionInDays: 6 }), code: 'BadRequest' },
      { method: 'PUT', path: vaultPath(name), body: body({ softDeleteRetentionInDays: 91 }), code: 'BadRequest' },
      { method: 'PUT', path: vaultPath(name), body: body({ enablePurgeProtection: false }), code: 'BadRequest' },
      { method: 'PATCH', path: vaultPath(name), body: { properties: { enablePurgeProtection: false } }, code: 'BadRequest' },
      { method: 'PUT', path: vaultPath(name), body: body({ sku: { family: 'A', name: 'gold' } }), code: 'BadRequest' },
      { method: 'PUT', path: vaultPath(name), body: body({ enableSoftDelete: false }), code: 'BadRequest' },
      { method: 'PATCH', path: vaultPath(name), body: { properties: { softDeleteRetentionInDays: 30 } }, code: 'BadRequest' },
    ];
    for (const c of cases) {
      const answer = await armRequest(c.method, c.path, c.body);
      expect({ case: c, status: answer.status, code: answer.json?.error?.code }).toEqual({ case: c, status: 400, code: c.code });
      expect(answer.json?.error?.message).toEqual(expect.any(String));
    }
    // A malformed body is refused before anything is read.
    const malformed = await armRequest('PUT', vaultPath(name), '{"location": "eastus", "properties": {');
    expect(malformed.status).toBe(400);
    expect(malformed.json?.error).toMatchObject({ code: 'InvalidRequestContent', message: expect.any(String) });
    const patchMalformed = await armRequest('PATCH', vaultPath(name), '{"tags": ');
    expect(patchMalformed).toMatchObject({ status: 400, json: { error: { code: 'InvalidRequestContent' } } });
    // A body of the wrong types, and no body at all.
    const wrongTypes = await armRequest('PUT', vaultPath(name), { location: LOCATION, properties: { tenantId: info.tenantId, sku: 'standard' } });
    expect(wrongTypes).toMatchObject({ status: 400, json: { error: { code: expect.any(String) } } });
    const noBody = await armRequest('PUT', vaultPath(name));
    expect(noBody).toMatchObject({ status: 400, json: { error: { code: expect.any(String) } } });
    // Another tenant's id in the body.
    const otherTenant = await armRequest('PUT', vaultPath(name), {
      location: LOCATION,
      properties: { tenantId: randomUUID(), sku: { family: 'A', name: 'standard' } },
    });
    expect(otherTenant).toMatchObject({ status: 400, json: { error: { code: 'BadRequest' } } });

    const after = await vaults.get(info.resourceGroup, name);
    expect(after).toEqual(before);

    // Purge protection holds a deleted vault until its retention ends.
    await vaults.delete(info.resourceGroup, name);
    const refusedPurge = await refusal(vaults.purgeDeleted(name, LOCATION));
    expect(refusedPurge).toMatchObject({ statusCode: 409 });
    expect(refusedPurge.message).toContain('purge protection');
    expect(await vaults.getDeleted(name, LOCATION)).toMatchObject({ name, properties: { purgeProtectionEnabled: true } });
    await handBackEndpoint(name, before.properties.vaultUri!);
    expect(await refusal(vaults.get(info.resourceGroup, '1-bad--name'))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect(await vaults.checkNameAvailability({ name: '1-bad--name', type: 'Microsoft.KeyVault/vaults' })).toMatchObject({
      nameAvailable: false,
      reason: 'AccountNameInvalid',
    });

    // The client's own refusals carry the same codes.
    expect(await refusal(create(vaultName('sku'), {}, 'gold' as 'standard'))).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(await refusal(create('ab'))).toMatchObject({ statusCode: 400, code: 'VaultNameNotValid' });
  });
});

describe('access policies', () => {
  it('adds, replaces and removes policies, and an access-policy vault grants exactly what they say', async () => {
    const name = vaultName('policy');
    const adminEntry: AccessPolicyEntry = {
      tenantId: info.tenantId,
      objectId: info.objectId,
      permissions: { secrets: ['get', 'set', 'list', 'delete'] },
    };
    const vault = await create(name, { enableRbacAuthorization: false, accessPolicies: [adminEntry] });
    expect(vault.properties).toMatchObject({ enableRbacAuthorization: false, accessPolicies: [adminEntry] });
    await secrets(vault.properties.vaultUri!).setSecret('shared', 'for the app');

    const app = info.unprivileged.objectId;
    const added = await vaults.updateAccessPolicy(info.resourceGroup, name, 'add', {
      properties: { accessPolicies: [{ tenantId: info.tenantId, objectId: app, permissions: { secrets: ['get'], keys: ['get'] } }] },
    });
    expect(added.properties.accessPolicies.find((e) => e.objectId === app)?.permissions).toEqual({ secrets: ['get'], keys: ['get'] });
    // `add` merges into the existing entry.
    await vaults.updateAccessPolicy(info.resourceGroup, name, 'add', {
      properties: { accessPolicies: [{ tenantId: info.tenantId, objectId: app, permissions: { secrets: ['list'] } }] },
    });
    let entry = (await vaults.get(info.resourceGroup, name)).properties.accessPolicies!.find((e) => e.objectId === app);
    expect(entry?.permissions).toEqual({ secrets: ['get', 'list'], keys: ['get'] });

    const replaced = await vaults.updateAccessPolicy(info.resourceGroup, name, 'replace', {
      properties: { accessPolicies: [{ tenantId: info.tenantId, objectId: app, permissions: { secrets: ['get'] } }] },
    });
    expect(replaced.properties.accessPolicies.find((e) => e.objectId === app)?.permissions).toEqual({ secrets: ['get'] });
    entry = (await vaults.get(info.resourceGroup, name)).properties.accessPolicies!.find((e) => e.objectId === app);
    expect(entry?.permissions).toEqual({ secrets: ['get'] });
    // The administrator's entry is untouched by changes to another principal's.
    expect((await vaults.get(info.resourceGroup, name)).properties.accessPolicies!.find((e) => e.objectId === info.objectId)).toEqual(adminEntry);

    const appSecrets = secrets(vault.properties.vaultUri!, unprivilegedCredential(info));
    expect((await appSecrets.getSecret('shared')).value).toBe('for the app');
    const refused = await refusal(appSecrets.setSecret('shared', 'overwritten'));
    expect(refused).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect(refused.message).toContain('does not have secrets set permission on key vault');
    expect((await secrets(vault.properties.vaultUri!).getSecret('shared')).value).toBe('for the app');

    await vaults.updateAccessPolicy(info.resourceGroup, name, 'remove', {
      properties: { accessPolicies: [{ tenantId: info.tenantId, objectId: app, permissions: { secrets: ['get'] } }] },
    });
    const policies = (await vaults.get(info.resourceGroup, name)).properties.accessPolicies!;
    expect(policies.map((e) => e.objectId)).toEqual([info.objectId]);
    await expect(appSecrets.getSecret('shared')).rejects.toMatchObject({ statusCode: 403 });
  });

  it('refuses an unknown update kind and a permission name Azure does not have', async () => {
    const name = vaultName('polbad');
    await create(name, { enableRbacAuthorization: false, accessPolicies: [] });
    const path = (kind: string) =>
      `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${name}/accessPolicies/${kind}?api-version=2026-02-01`;
    const entry = (secretsPermissions: string[]) => ({
      properties: {
        accessPolicies: [{ tenantId: info.tenantId, objectId: info.unprivileged.objectId, permissions: { secrets: secretsPermissions } }],
      },
    });
    const badKind = await armRequest('PUT', path('merge'), entry(['get']));
    expect(badKind).toMatchObject({ status: 400, json: { error: { code: 'BadRequest', message: expect.stringContaining('merge') } } });
    const badPermission = await armRequest('PUT', path('add'), entry(['fly']));
    expect(badPermission.status).toBe(400);
    expect(badPermission.json?.error?.code).toEqual(expect.any(String));
    expect((await vaults.get(info.resourceGroup, name)).properties.accessPolicies).toEqual([]);
  });
});

describe('tokens and roles on the management plane', () => {
  it('lets a Key Vault Contributor on a resource group manage vaults there only, and read no secrets in them', async () => {
    const group = uniqueName('vm-contrib');
    const resources = new ResourceManagementClient(owner, info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    });
    const created = await resources.resourceGroups.createOrUpdate(group, { location: LOCATION });
    const assignment = randomUUID();
    await authorization.roleAssignments.create(created.id!, assignment, {
      roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.keyVaultContributor}`,
      principalId: info.unprivileged.objectId,
      principalType: 'ServicePrincipal',
    });
    try {
      const contributor = new KeyVaultManagementClient(unprivilegedCredential(info), info.subscriptionId, {
        endpoint: info.managementUrl,
        credentials: { scopes: [info.managementScope] },
      });
      const name = vaultName('contrib');
      made.add(name);
      const vault = await contributor.vaults.createOrUpdate(group, name, {
        location: LOCATION,
        properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true },
      });
      expect(vault.id).toBe(`${created.id}/providers/Microsoft.KeyVault/vaults/${name}`);
      expect((await contributor.vaults.update(group, name, { tags: { by: 'contributor' } })).tags).toEqual({ by: 'contributor' });
      expect((await collect(contributor.vaults.listByResourceGroup(group))).map((v) => v.name)).toEqual([name]);
      // Managing a vault is not reading its secrets.
      await expect(secrets(vault.properties.vaultUri!, unprivilegedCredential(info)).setSecret('mine', 'no')).rejects.toMatchObject({
        statusCode: 403,
      });
      // Outside the group it holds nothing.
      expect(await refusal(contributor.vaults.get(info.resourceGroup, info.vaultName))).toMatchObject({
        statusCode: 403,
        code: 'AuthorizationFailed',
      });
      expect(
        await refusal(
          contributor.vaults.createOrUpdate(info.resourceGroup, vaultName('outside'), {
            location: LOCATION,
            properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' } },
          }),
        ),
      ).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
      // A recovery through the default group's path does not reach the deleted vault in its own group.
      await contributor.vaults.delete(group, name);
      expect(await refusal(create(name, { createMode: 'recover' }))).toMatchObject({ statusCode: 404 });
      expect(await vaults.getDeleted(name, LOCATION)).toMatchObject({ properties: { vaultId: vault.id } });
    } finally {
      await authorization.roleAssignments.delete(created.id!, assignment);
    }
  });

  it('refuses a data-plane token on the management plane and a management token on the data plane with 401', async () => {
    const dataToken = await adminToken(info);
    const onManagement = await armRequest('GET', vaultPath(info.vaultName), undefined, dataToken);
    expect(onManagement).toMatchObject({ status: 401, json: { error: { code: 'InvalidAuthenticationTokenAudience' } } });

    const onData = await fetch(`${info.vaultUrl.replace(/\/$/, '')}/secrets?api-version=7.5`, {
      headers: { authorization: `Bearer ${await managementToken()}` },
    });
    expect(onData.status).toBe(401);
    expect(((await onData.json()) as { error?: { code?: string } }).error?.code).toBe('Unauthorized');
    // The same tokens where they belong are accepted.
    expect((await armRequest('GET', vaultPath(info.vaultName))).status).toBe(200);
  });

  it('refuses a principal without roles creating a vault with 403 AuthorizationFailed, and creates nothing', async () => {
    const name = vaultName('norole');
    // The principal nobody grants anything: other tests grant the unprivileged one roles here and there.
    const client = new KeyVaultManagementClient(rolelessCredential(info), info.subscriptionId, {
      endpoint: info.managementUrl,
      credentials: { scopes: [info.managementScope] },
    });
    const refused = await refusal(
      client.vaults.createOrUpdate(info.resourceGroup, name, {
        location: LOCATION,
        properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' } },
      }),
    );
    expect(refused).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    // Nor may it read, change, delete or purge another's vault.
    expect(await refusal(client.vaults.get(info.resourceGroup, info.vaultName))).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    expect(await refusal(client.vaults.update(info.resourceGroup, info.vaultName, { tags: { taken: 'over' } }))).toMatchObject({
      statusCode: 403,
      code: 'AuthorizationFailed',
    });
    expect(await refusal(client.vaults.delete(info.resourceGroup, info.vaultName))).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    expect((await vaults.get(info.resourceGroup, info.vaultName)).tags).not.toHaveProperty('taken');
    expect(await vaults.checkNameAvailability({ name, type: 'Microsoft.KeyVault/vaults' })).toMatchObject({ nameAvailable: true });
  });
});
