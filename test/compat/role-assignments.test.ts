import { randomUUID } from 'node:crypto';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { SecretClient } from '@azure/keyvault-secrets';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_CACHE_TTL_MS } from '../../lib/access/access-control.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { adminSecretCredential, localStack, secretClient, uniqueName, unprivilegedCredential } from '../support/local.ts';

/**
 * Role assignments and definitions through the unmodified AuthorizationManagementClient against the
 * local stack, and their effect on the data plane through SecretClient: a grant on one secret lets the
 * application read that secret only, and its revocation refuses it again within the stated bound.
 */
const info = localStack();
const owner = adminSecretCredential(info);
const authorization = new AuthorizationManagementClient(owner, info.subscriptionId, {
  endpoint: info.managementUrl,
  credentialScopes: [info.managementScope],
});
const subscription = `/subscriptions/${info.subscriptionId}`;
const vaultId = `${subscription}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${info.vaultName}`;
const roleDefinition = (guid: string) => `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const appSecrets = new SecretClient(info.vaultUrl, unprivilegedCredential(info), {
  disableChallengeResourceVerification: true,
  retryOptions: { maxRetries: 0 },
});
const granted = uniqueName('ra-granted');
const other = uniqueName('ra-other');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function refusedByRbac(name: string): Promise<void> {
  const error = await appSecrets.getSecret(name).then(
    () => undefined,
    (e: unknown) => e as { statusCode?: number; code?: string; details?: { error?: { innerError?: { code?: string } } } },
  );
  expect(error).toMatchObject({ statusCode: 403, code: 'Forbidden' });
  // SecretClient deserializes Key Vault's `innererror` as `innerError`.
  expect(error?.details?.error?.innerError?.code).toBe('ForbiddenByRbac');
}

async function managementToken(): Promise<string> {
  return (await owner.getToken(info.managementScope))!.token;
}

async function armRequest(method: string, path: string, body?: unknown) {
  const response = await fetch(`${info.managementUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await managementToken()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } };
}

beforeAll(async () => {
  const admin = secretClient(owner, info);
  await admin.setSecret(granted, 'for the app');
  await admin.setSecret(other, 'not for the app');
});

describe('role assignments through AuthorizationManagementClient', () => {
  it('creates, gets, lists (for scope, for subscription, by principal) and deletes an assignment', async () => {
    const name = randomUUID();
    const principalId = randomUUID();
    const created = await authorization.roleAssignments.create(vaultId, name, {
      roleDefinitionId: roleDefinition(roleIds.keyVaultReader),
      principalId,
      principalType: 'ServicePrincipal',
      description: 'reads the vault',
    });
    expect(created).toMatchObject({
      id: `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      scope: vaultId,
      roleDefinitionId: roleDefinition(roleIds.keyVaultReader),
      principalId,
      principalType: 'ServicePrincipal',
      description: 'reads the vault',
      createdBy: info.objectId,
    });
    expect(created.createdOn).toBeInstanceOf(Date);

    expect(await authorization.roleAssignments.get(vaultId, name)).toMatchObject({ name, principalId, scope: vaultId });

    const forScope: string[] = [];
    for await (const a of authorization.roleAssignments.listForScope(vaultId)) forScope.push(a.name!);
    expect(forScope).toContain(name);
    const forSubscription: string[] = [];
    for await (const a of authorization.roleAssignments.listForSubscription()) forSubscription.push(a.name!);
    expect(forSubscription).toContain(name);
    const byPrincipal: string[] = [];
    for await (const a of authorization.roleAssignments.listForScope(subscription, { filter: `principalId eq '${principalId}'` })) {
      byPrincipal.push(a.name!);
    }
    expect(byPrincipal).toEqual([name]);

    expect(await authorization.roleAssignments.delete(vaultId, name)).toMatchObject({ name, principalId });
    await expect(authorization.roleAssignments.get(vaultId, name)).rejects.toMatchObject({ statusCode: 404, code: 'RoleAssignmentNotFound' });
    const after: string[] = [];
    for await (const a of authorization.roleAssignments.listForScope(subscription, { filter: `principalId eq '${principalId}'` })) {
      after.push(a.name!);
    }
    expect(after).toEqual([]);
  });

  it('grants Key Vault Secrets User on one secret: the application reads it, is refused another, and is refused after the revocation', async () => {
    await refusedByRbac(granted);
    const name = randomUUID();
    await authorization.roleAssignments.create(`${vaultId}/secrets/${granted}`, name, {
      roleDefinitionId: roleDefinition(roleIds.secretsUser),
      principalId: info.unprivileged.objectId,
      principalType: 'ServicePrincipal',
    });
    // The grant takes effect within the same bound as a revocation.
    await sleep(ACCESS_CACHE_TTL_MS + 1_000);
    expect((await appSecrets.getSecret(granted)).value).toBe('for the app');
    await refusedByRbac(other);

    await authorization.roleAssignments.delete(`${vaultId}/secrets/${granted}`, name);
    await sleep(ACCESS_CACHE_TTL_MS + 1_000);
    await refusedByRbac(granted);
  });

  it('lets a custom role with the getSecret data action read the secret it is assigned on', async () => {
    const roleId = randomUUID();
    const role = await authorization.roleDefinitions.createOrUpdate(subscription, roleId, {
      roleName: `secret reader ${roleId}`,
      description: 'reads secret values',
      roleType: 'CustomRole',
      permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'], notDataActions: [] }],
      assignableScopes: [subscription],
    });
    expect(role).toMatchObject({ name: roleId, roleName: `secret reader ${roleId}`, roleType: 'CustomRole', assignableScopes: [subscription] });
    expect(await authorization.roleDefinitions.get(vaultId, roleId)).toMatchObject({
      id: `${vaultId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
      permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] }],
    });
    const listed: string[] = [];
    for await (const d of authorization.roleDefinitions.list(subscription, { filter: "type eq 'CustomRole'" })) listed.push(d.name!);
    expect(listed).toContain(roleId);

    const name = randomUUID();
    await authorization.roleAssignments.create(`${vaultId}/secrets/${other}`, name, {
      roleDefinitionId: roleDefinition(roleId),
      principalId: info.unprivileged.objectId,
      principalType: 'ServicePrincipal',
    });
    await sleep(ACCESS_CACHE_TTL_MS + 1_000);
    expect((await appSecrets.getSecret(other)).value).toBe('not for the app');

    await expect(authorization.roleDefinitions.delete(subscription, roleId)).rejects.toMatchObject({
      statusCode: 409,
      code: 'RoleDefinitionHasAssignments',
    });
    await authorization.roleAssignments.delete(`${vaultId}/secrets/${other}`, name);
    expect(await authorization.roleDefinitions.delete(subscription, roleId)).toMatchObject({ name: roleId });
    await sleep(ACCESS_CACHE_TTL_MS + 1_000);
    await refusedByRbac(other);
  });

  it('reads the built-in roles by GUID at any scope and filters them by name', async () => {
    expect(await authorization.roleDefinitions.get(`${vaultId}/secrets/${granted}`, roleIds.secretsUser)).toMatchObject({
      name: roleIds.secretsUser,
      roleName: 'Key Vault Secrets User',
      roleType: 'BuiltInRole',
      permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'] }],
    });
    const found: string[] = [];
    for await (const d of authorization.roleDefinitions.list(vaultId, { filter: "roleName eq 'Key Vault Administrator'" })) found.push(d.name!);
    expect(found).toEqual([roleIds.administrator]);
  });

  it("answers bad input with ARM's error shape and changes nothing", async () => {
    const path = (name: string) => `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`;
    const principalId = randomUUID();
    const good = { properties: { roleDefinitionId: roleDefinition(roleIds.secretsUser), principalId } };

    const notGuid = await armRequest('PUT', path('not-a-guid'), good);
    expect(notGuid.status).toBe(400);
    expect(notGuid.json?.error).toMatchObject({ code: expect.any(String), message: expect.stringContaining('not-a-guid') });

    const unknown = await armRequest('PUT', path(randomUUID()), {
      properties: { ...good.properties, roleDefinitionId: roleDefinition(randomUUID()) },
    });
    expect(unknown).toMatchObject({ status: 400, json: { error: { code: 'RoleDefinitionDoesNotExist' } } });
    const malformedId = await armRequest('PUT', path(randomUUID()), { properties: { ...good.properties, roleDefinitionId: 'Owner' } });
    expect(malformedId).toMatchObject({ status: 400, json: { error: { code: 'InvalidRoleDefinitionId' } } });
    for (const body of ['{"properties":', { properties: { principalId } }, { properties: { roleDefinitionId: 5, principalId } }]) {
      const malformed = await armRequest('PUT', path(randomUUID()), body);
      expect(malformed.status).toBe(400);
      expect(malformed.json?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }

    const left: string[] = [];
    for await (const a of authorization.roleAssignments.listForScope(subscription, { filter: `principalId eq '${principalId}'` })) left.push(a.name!);
    expect(left).toEqual([]);
  });
});
