import { randomUUID } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClient } from '../../dev/dynamodb.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * A purged managed HSM pool leaves nothing of its keys behind (docs/adr/0024): a pool with keys (one
 * of several versions, one soft-deleted) is deleted and purged through @azure/arm-keyvault, after
 * which DynamoDB holds no item of the pool's prefix, and a new pool of the same name, activated,
 * lists no keys and no deleted keys through @azure/keyvault-keys.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const API = 'api-version=7.4';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const CLIENT_OPTIONS = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };

const name = uniqueName('ppurge').replace(/-/g, '').slice(0, 24);
const admin = adminSecretCredential(info);
let adminToken = '';

const at = (uri: string, path: string) => `${uri.replace(/\/$/, '')}${path}?${API}`;

/** Creates the pool, activates it with a security domain download and makes the test's principal its Crypto Officer and User. */
async function activePool(): Promise<string> {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  const uri = pool.properties!.hsmUri!;
  const certificates = securityDomainOfficers().map(({ jwk }) => jwk);
  const download = await raw('POST', at(uri, '/securitydomain/download'), { token: adminToken, body: { certificates, required: 2 } });
  expect(download.status, download.text).toBe(202);
  for (const role of [hsmRoleIds.cryptoOfficer, hsmRoleIds.cryptoUser]) {
    const r = await raw('PUT', at(uri, `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), {
      token: adminToken,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(role), principalId: info.objectId } },
    });
    expect(r.status, r.text).toBe(201);
  }
  return uri;
}

/** The partition keys of every item of the pool's: its record (`MHSM#<pool>`), everything under `MHSM#<pool>#`, its backup jobs (`MHSMJOB#<pool>`). A test may scan. */
async function poolItemPartitions(): Promise<string[]> {
  const dynamo = localClient(info.endpoints.dynamodb);
  const prefix = `MHSM#${name}`;
  const found: string[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: info.tables.objects,
          FilterExpression: 'pk = :record OR begins_with(pk, :objects) OR pk = :jobs',
          ExpressionAttributeValues: { ':record': { S: prefix }, ':objects': { S: `${prefix}#` }, ':jobs': { S: `MHSMJOB#${name}` } },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      found.push(...(page.Items ?? []).map((item) => item.pk!.S!));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    dynamo.destroy();
  }
  return found;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

beforeAll(async () => {
  adminToken = (await admin.getToken(MHSM_SCOPE))!.token;
}, 60_000);

afterAll(async () => {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}, 60_000);

describe("a managed HSM pool's purge", () => {
  it("removes every record of the pool's keys, so a new pool of the same name starts empty", async () => {
    const keys = new KeyClient(await activePool(), admin, CLIENT_OPTIONS);
    const rsa = uniqueName('rsa');
    await keys.createRsaKey(rsa, { keySize: 2048, hsm: true });
    await keys.createRsaKey(rsa, { keySize: 2048, hsm: true, tags: { second: 'version' } });
    await keys.createEcKey(uniqueName('ec'), { curve: 'P-256', hsm: true });
    const aes = uniqueName('aes');
    await keys.createOctKey(aes, { keySize: 256, hsm: true });
    await (await keys.beginDeleteKey(aes, { intervalInMs: 10 })).pollUntilDone();
    expect((await collect(keys.listDeletedKeys())).map((k) => k.name)).toEqual([aes]);

    // A backup job's record too: a prebackup writes one (the local stack keeps backups in its data directory).
    const uri = (await pools.get(info.resourceGroup, name)).properties!.hsmUri!;
    const check = await raw('POST', `${uri.replace(/\/$/, '')}/prebackup?api-version=7.6`, {
      token: adminToken,
      body: { storageResourceUri: 'https://backups.blob.localhost/purge-test' },
    });
    expect(check.status, check.text).toBe(202);

    const before = new Set(await poolItemPartitions());
    expect(before).toContain(`MHSMJOB#${name}`);
    for (const partition of ['keys', 'deletedkeys', `keys#${rsa}`, `keys#${aes}`]) expect(before).toContain(`MHSM#${name}#${partition}`);

    await pools.beginDeleteAndWait(info.resourceGroup, name);
    await pools.beginPurgeDeletedAndWait(name, LOCATION);
    expect(await poolItemPartitions()).toEqual([]);

    const again = new KeyClient(await activePool(), admin, CLIENT_OPTIONS);
    expect(await collect(again.listPropertiesOfKeys())).toEqual([]);
    expect(await collect(again.listDeletedKeys())).toEqual([]);
    await expect(again.getKey(rsa)).rejects.toMatchObject({ statusCode: 404 });
  }, 180_000);
});
