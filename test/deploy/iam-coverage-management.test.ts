import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BatchWriteItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { localClient } from '../../dev/dynamodb.ts';
import { MANAGEMENT_AUDIENCE } from '../../dev/local-environment.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { managedHsmPoolRoutes, routes } from '../../lib/http/routes.ts';
import { localStack, uniqueName } from '../support/local.ts';
import { type Caller, CallRecording, coverageChecks, expectStatus, managementAdministrator } from './iam-recording.ts';

/**
 * IAM coverage of the management plane (iam-recording.ts says how): the vault life cycle, resource
 * groups, role assignments and definitions, driven as the ARM clients drive them, each call checked
 * against what infra/permissions.ts grants its operation.
 *
 * The caller is a principal of its own, made Owner of the subscription by the tenant administrator
 * (so the management authorizer reads its role assignments, as it does for everyone but tenant
 * administrators), and Key Vault Administrator of the vault it creates, so the vault has a secret and
 * an HSM key for the purge to remove. The vault gets strict audit right after its creation, so the
 * operations on it write their audit records to the audit table, as for such a vault in AWS.
 */
const recording = new CallRecording();

const KEYVAULT = 'api-version=2026-02-01';
const RESOURCES = 'api-version=2025-04-01';
const SUBSCRIPTIONS = 'api-version=2022-12-01';
const AUTHORIZATION = 'api-version=2022-04-01';
const EVENT_GRID = 'api-version=2022-06-15';
const LOCATION = 'westeurope';

/** A principal no other test knows, with tokens signed by the identity provider's own key. */
const owner = randomUUID();

async function signedToken(objectId: string, audience: string): Promise<string> {
  const info = localStack();
  const pem = readFileSync(join(process.env.COFFER_TEST_DATA_DIR!, 'identity', 'signing-key.pem'), 'utf8');
  const jwks = (await (await fetch(info.jwksUri)).json()) as { keys: { kid: string }[] };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: info.tenantId, oid: objectId, appid: randomUUID(), idtyp: 'app' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0]!.kid })
    .setIssuer(info.issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .sign(await importPKCS8(pem, 'RS256'));
}

const managementHost = () => new URL(localStack().managementUrl).host;
const ownerCaller: Caller = { token: () => signedToken(owner, MANAGEMENT_AUDIENCE), host: managementHost };

/** Strict audit is the deployment's choice, not an ARM property: set on the record, outside any recorded call. */
async function makeStrict(vault: string): Promise<void> {
  const dynamo = localClient(localStack().endpoints.dynamodb);
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: localStack().tables.objects,
        Key: { pk: { S: `VAULT#${vault}` }, sk: { S: 'VAULT' } },
        UpdateExpression: 'SET strictAudit = :on',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':on': { BOOL: true } },
      }),
    );
  } finally {
    dynamo.destroy();
  }
}

/**
 * What a pool's keys leave in the objects table (docs/adr/0024: the vaults' layout under `MHSM#<pool>`), a
 * live key of two versions and a deleted one, written outside any recorded call: the pool of this
 * scenario is never activated, and its purge must remove them with its own grants.
 */
async function seedPoolKeys(pool: string): Promise<void> {
  const dynamo = localClient(localStack().endpoints.dynamodb);
  const prefix = `MHSM#${pool}`;
  const item = (pk: string, sk: string) => ({ PutRequest: { Item: { pk: { S: pk }, sk: { S: sk } } } });
  const version = () => randomUUID().replace(/-/g, '');
  try {
    await dynamo.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [localStack().tables.objects]: [
            item(`${prefix}#keys`, 'live'),
            item(`${prefix}#keys#live`, version()),
            item(`${prefix}#keys#live`, version()),
            item(`${prefix}#deletedkeys`, 'gone'),
            item(`${prefix}#keys#gone`, version()),
          ],
        },
      }),
    );
  } finally {
    dynamo.destroy();
  }
}

/** How many of the seeded items are left. */
async function seededPoolKeysLeft(pool: string): Promise<number> {
  const dynamo = localClient(localStack().endpoints.dynamodb);
  const prefix = `MHSM#${pool}`;
  try {
    let left = 0;
    for (const pk of [`${prefix}#keys`, `${prefix}#keys#live`, `${prefix}#deletedkeys`, `${prefix}#keys#gone`]) {
      const { Count = 0 } = await dynamo.send(
        new QueryCommand({
          TableName: localStack().tables.objects,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          Select: 'COUNT',
        }),
      );
      left += Count;
    }
    return left;
  } finally {
    dynamo.destroy();
  }
}

let ownerAssignment: string;

beforeAll(() => recording.start());

afterAll(async () => {
  // The subscription's Owner is this suite's own principal; it goes with the suite.
  if (ownerAssignment)
    await recording.call('DELETE', `${ownerAssignment}?${AUTHORIZATION}`, undefined, managementAdministrator).catch(() => undefined);
  recording.stop();
});

/** The management operations the scenario drives; the others are todo until it has steps for them. */
const SCENARIO = [
  'ListSubscriptions',
  'GetSubscription',
  'ListResourceGroups',
  'CreateOrUpdateResourceGroup',
  'GetResourceGroup',
  'DeleteResourceGroup',
  'ListResources',
  'CheckVaultNameAvailability',
  'ListVaultsBySubscription',
  'ListVaultsByResourceGroup',
  'CreateOrUpdateVault',
  'GetVault',
  'UpdateVault',
  'DeleteVault',
  'UpdateVaultAccessPolicy',
  'ListDeletedVaults',
  'GetDeletedVault',
  'PurgeDeletedVault',
  'GetVaultOperationResult',
  'CreateRoleAssignment',
  'GetRoleAssignment',
  'DeleteRoleAssignment',
  'ListRoleAssignments',
  'CreateOrUpdateRoleDefinition',
  'GetRoleDefinition',
  'DeleteRoleDefinition',
  'ListRoleDefinitions',
  'ListAuditEvents',
  'CreateOrUpdateEventSubscription',
  'GetEventSubscription',
  'UpdateEventSubscription',
  'ListEventSubscriptionsByResource',
  'GetEventSubscriptionFullUrl',
  'DeleteEventSubscription',
];

/** A loopback webhook that completes Event Grid's validation handshake, for the event-subscription steps. */
async function validatingWebhook(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const [event] = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[{}]');
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: event?.data?.validationCode }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
const management = routes.filter((r) => r.plane === 'management');
const covered = management.filter((r) => SCENARIO.includes(r.operation));
const uncovered = management.filter((r) => !SCENARIO.includes(r.operation));

/**
 * Grants no step uses, because the path that needs them cannot be driven from here; infra/permissions.ts
 * says at each why it is granted all the same.
 */
const UNREACHED: Record<string, string[]> = {
  // Undoing a create whose record a concurrent create of the same name wrote first: the endpoint claim and the new key.
  CreateOrUpdateVault: ['objects:DeleteItem', 'vaultKeyLifecycle:ScheduleKeyDeletion'],
};

describe('every AWS call a management operation makes is granted to its function', () => {
  beforeAll(async () => {
    const info = localStack();
    const s = `/subscriptions/${info.subscriptionId}`;
    const group = uniqueName('iam-rg');
    const vault = uniqueName('iamv');
    const groupPath = `${s}/resourcegroups/${group}`;
    const vaultId = `${s}/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults/${vault}`;
    const as = (caller: Caller) => (method: string, path: string, body?: unknown) => recording.call(method, path, body, caller);
    const manage = as(ownerCaller);

    // The tenant administrator makes this suite's principal Owner of the subscription.
    ownerAssignment = `${s}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    const ownerRole = `${s}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.owner}`;
    await expectStatus(
      201,
      as(managementAdministrator)('PUT', `${ownerAssignment}?${AUTHORIZATION}`, { properties: { roleDefinitionId: ownerRole, principalId: owner } }),
    );

    await expectStatus(200, manage('GET', `/subscriptions?${SUBSCRIPTIONS}`));
    await expectStatus(200, manage('GET', `${s}?${SUBSCRIPTIONS}`));
    await expectStatus(201, manage('PUT', `${groupPath}?${RESOURCES}`, { location: LOCATION }));
    await expectStatus(200, manage('PUT', `${groupPath}?${RESOURCES}`, { location: LOCATION, tags: { purpose: 'iam' } }));
    await expectStatus(200, manage('GET', `${s}/resourcegroups?${RESOURCES}`));
    await expectStatus(200, manage('GET', `${groupPath}?${RESOURCES}`));

    // A premium vault, created, replaced, read, patched, listed every way ARM clients list.
    await expectStatus(
      200,
      manage('POST', `${s}/providers/Microsoft.KeyVault/checkNameAvailability?${KEYVAULT}`, { name: vault, type: 'Microsoft.KeyVault/vaults' }),
    );
    const properties = { tenantId: info.tenantId, sku: { family: 'A', name: 'premium' }, enableRbacAuthorization: true };
    const created = await expectStatus(201, manage('PUT', `${vaultId}?${KEYVAULT}`, { location: LOCATION, properties }));
    await makeStrict(vault);
    await expectStatus(200, manage('PUT', `${vaultId}?${KEYVAULT}`, { location: LOCATION, tags: { a: '1' }, properties }));
    await expectStatus(200, manage('GET', `${vaultId}?${KEYVAULT}`));
    await expectStatus(200, manage('PATCH', `${vaultId}?${KEYVAULT}`, { tags: { b: '2' } }));
    const policy = { tenantId: info.tenantId, objectId: randomUUID(), permissions: { secrets: ['get'] } };
    await expectStatus(200, manage('PUT', `${vaultId}/accessPolicies/add?${KEYVAULT}`, { properties: { accessPolicies: [policy] } }));
    await expectStatus(200, manage('GET', `${s}/providers/Microsoft.KeyVault/vaults?${KEYVAULT}`));
    await expectStatus(200, manage('GET', `${s}/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults?${KEYVAULT}`));
    const filter = encodeURIComponent("resourceType eq 'Microsoft.KeyVault/vaults'");
    await expectStatus(200, manage('GET', `${s}/resources?$filter=${filter}&api-version=2015-11-01`));

    // A custom role defined at the vault, assigned there and removed again.
    const roleName = randomUUID();
    const role = `${vaultId}/providers/Microsoft.Authorization/roleDefinitions/${roleName}`;
    const roleBody = {
      properties: {
        roleName: uniqueName('iam-role'),
        description: 'IAM coverage',
        type: 'CustomRole',
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'], notDataActions: [] }],
        assignableScopes: [vaultId],
      },
    };
    await expectStatus(201, manage('PUT', `${role}?${AUTHORIZATION}`, roleBody));
    await expectStatus(200, manage('GET', `${role}?${AUTHORIZATION}`));
    await expectStatus(200, manage('GET', `${vaultId}/providers/Microsoft.Authorization/roleDefinitions?${AUTHORIZATION}`));
    const assignment = `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    await expectStatus(
      201,
      manage('PUT', `${assignment}?${AUTHORIZATION}`, {
        properties: { roleDefinitionId: `${s}/providers/Microsoft.Authorization/roleDefinitions/${roleName}`, principalId: randomUUID() },
      }),
    );
    await expectStatus(200, manage('GET', `${assignment}?${AUTHORIZATION}`));
    await expectStatus(200, manage('GET', `${vaultId}/providers/Microsoft.Authorization/roleAssignments?${AUTHORIZATION}`));
    const mine = encodeURIComponent(`assignedTo('${owner}')`);
    await expectStatus(200, manage('GET', `${s}/providers/Microsoft.Authorization/roleAssignments?$filter=${mine}&${AUTHORIZATION}`));
    await expectStatus(200, manage('DELETE', `${assignment}?${AUTHORIZATION}`));
    await expectStatus(200, manage('DELETE', `${role}?${AUTHORIZATION}`));

    // Objects for the purge to remove: a secret and an HSM key, by the owner made Key Vault Administrator of the vault.
    const administratorRole = `${s}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.administrator}`;
    const dataGrant = `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    await expectStatus(
      201,
      manage('PUT', `${dataGrant}?${AUTHORIZATION}`, { properties: { roleDefinitionId: administratorRole, principalId: owner } }),
    );
    const data: Caller = { token: () => signedToken(owner, info.audience), host: () => new URL(String(created.properties.vaultUri)).host };
    await expectStatus(200, recording.call('PUT', `/secrets/${uniqueName('iam')}?api-version=7.6`, { value: 'purged' }, data));
    await expectStatus(200, recording.call('POST', `/keys/${uniqueName('iam-hsm')}/create?api-version=7.6`, { kty: 'EC-HSM', crv: 'P-256' }, data));

    // The vault's audit records (strict: written by the requests above), a page and the next, whose $skiptoken the paging key signs.
    const page = await expectStatus(200, manage('GET', `${vaultId}/auditEvents?${KEYVAULT}&$top=1`));
    expect(page.nextLink, JSON.stringify(page)).toEqual(expect.any(String));
    const next = new URL(page.nextLink);
    await expectStatus(200, manage('GET', `${next.pathname}${next.search}`));

    // Event subscriptions on the vault: one made, read, changed, listed, its URL read, deleted; another left for the purge to remove.
    const webhook = await validatingWebhook();
    try {
      const subscriptions = `${vaultId}/providers/Microsoft.EventGrid/eventSubscriptions`;
      const destination = { endpointType: 'WebHook', properties: { endpointUrl: `${webhook.url}/hook?code=1` } };
      await expectStatus(201, manage('PUT', `${subscriptions}/iam-one?${EVENT_GRID}`, { properties: { destination } }));
      await expectStatus(201, manage('PUT', `${subscriptions}/iam-two?${EVENT_GRID}`, { properties: { destination } }));
      await expectStatus(200, manage('GET', `${subscriptions}/iam-one?${EVENT_GRID}`));
      await expectStatus(200, manage('PATCH', `${subscriptions}/iam-one?${EVENT_GRID}`, { filter: { subjectBeginsWith: 'db-' } }));
      await expectStatus(200, manage('GET', `${subscriptions}?${EVENT_GRID}`));
      await expectStatus(200, manage('POST', `${subscriptions}/iam-one/getFullUrl?${EVENT_GRID}`));
      await expectStatus(200, manage('DELETE', `${subscriptions}/iam-one?${EVENT_GRID}`));
    } finally {
      await webhook.close();
    }

    // Soft delete, recover, delete again, purge; then the group can go.
    await expectStatus(200, manage('DELETE', `${vaultId}?${KEYVAULT}`));
    await expectStatus(200, manage('GET', `${s}/providers/Microsoft.KeyVault/deletedVaults?${KEYVAULT}`));
    const deleted = `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedVaults/${vault}`;
    await expectStatus(200, manage('GET', `${deleted}?${KEYVAULT}`));
    await expectStatus(200, manage('PUT', `${vaultId}?${KEYVAULT}`, { location: LOCATION, properties: { ...properties, createMode: 'recover' } }));
    await expectStatus(200, manage('DELETE', `${vaultId}?${KEYVAULT}`));
    // The purge is a long-running operation, finished when it answers: its Location says it succeeded.
    const purge = await manage('POST', `${deleted}/purge?${KEYVAULT}`);
    expect(purge.status, JSON.stringify(purge.json)).toBe(202);
    const operation = new URL(purge.headers.location!);
    expect(await expectStatus(200, manage('GET', `${operation.pathname}${operation.search}`))).toMatchObject({ status: 'Succeeded' });
    await expectStatus(404, manage('GET', `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/operationResults/${randomUUID()}?${KEYVAULT}`));
    await expectStatus([200, 202], manage('DELETE', `${groupPath}?${RESOURCES}`));

    await recording.readKeyTags();
  }, 180_000);

  coverageChecks({ recording, scenario: SCENARIO, covered, uncovered, unreached: UNREACHED });
});

/** The pools' life cycle, driven as @azure/arm-keyvault's managedHsms operations drive it (ADR 0020). */
const POOL_SCENARIO = managedHsmPoolRoutes.map((r) => r.operation);

describe('every AWS call a managed HSM pool operation makes is granted to its function', () => {
  beforeAll(async () => {
    const info = localStack();
    const s = `/subscriptions/${info.subscriptionId}`;
    const group = uniqueName('iam-pools');
    const pool = uniqueName('iamp');
    const groupPath = `${s}/resourcegroups/${group}`;
    const poolId = `${s}/resourceGroups/${group}/providers/Microsoft.KeyVault/managedHSMs/${pool}`;
    const manage = (method: string, path: string, body?: unknown) => recording.call(method, path, body, ownerCaller);
    await expectStatus([200, 201], manage('PUT', `${groupPath}?${RESOURCES}`, { location: LOCATION }));
    await expectStatus(200, manage('POST', `${s}/providers/Microsoft.KeyVault/checkMhsmNameAvailability?${KEYVAULT}`, { name: pool }));
    const body = {
      location: LOCATION,
      sku: { family: 'B', name: 'Standard_B1' },
      properties: { tenantId: info.tenantId, initialAdminObjectIds: [owner], softDeleteRetentionInDays: 7 },
    };
    await expectStatus([200, 201], manage('PUT', `${poolId}?${KEYVAULT}`, body));
    await expectStatus(200, manage('GET', `${poolId}?${KEYVAULT}`));
    await expectStatus(200, manage('PATCH', `${poolId}?${KEYVAULT}`, { tags: { purpose: 'iam' } }));
    await expectStatus(200, manage('GET', `${s}/providers/Microsoft.KeyVault/managedHSMs?${KEYVAULT}`));
    await expectStatus(200, manage('GET', `${s}/resourceGroups/${group}/providers/Microsoft.KeyVault/managedHSMs?${KEYVAULT}`));
    await expectStatus(200, manage('DELETE', `${poolId}?${KEYVAULT}`));
    await expectStatus(200, manage('GET', `${s}/providers/Microsoft.KeyVault/deletedManagedHSMs?${KEYVAULT}`));
    const deleted = `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedManagedHSMs/${pool}`;
    await expectStatus(200, manage('GET', `${deleted}?${KEYVAULT}`));
    await seedPoolKeys(pool);
    expect(await seededPoolKeysLeft(pool)).toBe(5);
    await expectStatus(202, manage('POST', `${deleted}/purge?${KEYVAULT}`));
    expect(await seededPoolKeysLeft(pool)).toBe(0);
    await expectStatus([200, 202], manage('DELETE', `${groupPath}?${RESOURCES}`));
  }, 180_000);

  coverageChecks({
    recording,
    scenario: POOL_SCENARIO,
    covered: managedHsmPoolRoutes,
    uncovered: [],
    // Undoing a create whose name a concurrent create took first, or whose initial administrators could not be granted.
    unreached: { CreateOrUpdateManagedHsm: ['objects:DeleteItem'] },
  });
});
