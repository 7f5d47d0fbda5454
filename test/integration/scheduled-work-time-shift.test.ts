/**
 * Scheduled work end to end on the running local stack, nothing in this process but the clients:
 * the official Azure SDK writes, the gateway's stream reader keeps the due items, and the time shift
 * (`POST /_coffer/time`) moves a fresh vault's clock and runs the gateway's scheduler, answering when
 * it is done. NearExpiry and Expired reach the local EventBridge's log once each; a deleted secret is
 * purged after its retention and not before; in a purge-protected vault a caller's purge is refused
 * until then, and the scheduler's purge at its end still happens.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SecretClient } from '@azure/keyvault-secrets';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoDueStore } from '../../lib/aws/dynamo-schedule.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

const info = localStack();
const DAY = 86_400;
let vaultName: string;
let secrets: SecretClient;
let managementToken: string;
let dueStore: DynamoDueStore;

beforeAll(async () => {
  const vault = await createLocalVault('shiftsched');
  vaultName = vault.name;
  secrets = new SecretClient(vault.vaultUri, adminSecretCredential(info), {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });
  managementToken = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
  const db = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  dueStore = new DynamoDueStore(db, info.tables.objects);
});

async function advance(seconds: number): Promise<void> {
  const answer = await raw('POST', '/_coffer/time', { token: managementToken, body: { vault: vaultName, advanceSeconds: seconds } });
  expect(answer.status, answer.text).toBe(200);
  expect(answer.json).toMatchObject({ vault: vaultName, scheduledWorkRan: true });
}

/** Waits for the gateway's stream reader to have written a due item. */
async function dueItem(slot: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const item = await dueStore.get(vaultName, slot);
    if (item || Date.now() > deadline) return item;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function puts(type: string, subject: string) {
  const lines = (await readFile(info.eventsLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return lines
    .map((line) => JSON.parse(line) as { kind: string; 'detail-type': string; subject?: string; detailId: string; resources: string[] })
    .filter((line) => line.kind === 'put' && line['detail-type'] === `Microsoft.KeyVault.${type}` && line.subject === subject)
    .filter((line) => line.resources.some((r) => r.toLowerCase().endsWith(`/vaults/${vaultName.toLowerCase()}`)));
}

describe('scheduled work through the time shift', () => {
  it('fires NearExpiry and Expired once each, and purges a deleted secret after its retention and not before', async () => {
    const exp = Math.floor(Date.now() / 1000) + 40 * DAY;
    await secrets.setSecret('shifted', 'value', { expiresOn: new Date(exp * 1000) });
    expect(await dueItem('secrets#shifted#nearexpiry')).toMatchObject({ dueAt: exp - 30 * DAY });

    await advance(10 * DAY - 600);
    expect(await puts('SecretNearExpiry', 'shifted')).toEqual([]);
    await advance(660);
    expect(await puts('SecretNearExpiry', 'shifted')).toHaveLength(1);
    await advance(60);
    expect(await puts('SecretNearExpiry', 'shifted')).toHaveLength(1);

    await advance(30 * DAY);
    expect(await puts('SecretExpired', 'shifted')).toHaveLength(1);

    await (await secrets.beginDeleteSecret('shifted')).pollUntilDone();
    const deleted = await secrets.getDeletedSecret('shifted');
    const retention = (deleted.properties.scheduledPurgeDate!.getTime() - deleted.properties.deletedOn!.getTime()) / 1000;
    expect(await dueItem('secrets#shifted#purge')).toMatchObject({ dueAt: deleted.properties.scheduledPurgeDate!.getTime() / 1000 });
    await advance(retention - 600);
    expect((await secrets.getDeletedSecret('shifted')).name).toBe('shifted');
    await advance(660);
    await expect(secrets.getDeletedSecret('shifted')).rejects.toMatchObject({ statusCode: 404 });
    expect(await puts('SecretExpired', 'shifted')).toHaveLength(1);
  });
});

describe('purge protection through the time shift', () => {
  it('refuses a caller’s purge during the retention, and the scheduler purges at its end', async () => {
    // A protected vault of its own: the one above keeps its clock for its own test.
    const name = uniqueName('protect').replace(/-/g, '').slice(0, 24);
    const { vaults, authorization } = managementClients(info);
    const vault = await vaults.vaults.createOrUpdate(info.resourceGroup, name, {
      location: 'eastus',
      properties: { tenantId: info.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true, enablePurgeProtection: true },
    });
    await authorization.roleAssignments.create(vault.id!, randomUUID(), {
      roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.administrator}`,
      principalId: info.objectId,
      principalType: 'ServicePrincipal',
    });
    const protectedSecrets = new SecretClient(vault.properties.vaultUri!, adminSecretCredential(info), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    await protectedSecrets.setSecret('kept', 'value');
    await (await protectedSecrets.beginDeleteSecret('kept')).pollUntilDone();
    const deleted = await protectedSecrets.getDeletedSecret('kept');
    const retention = (deleted.properties.scheduledPurgeDate!.getTime() - deleted.properties.deletedOn!.getTime()) / 1000;
    const deadline = Date.now() + 20_000;
    while (!(await dueStore.get(name, 'secrets#kept#purge')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));

    const shift = async (seconds: number) => {
      const answer = await raw('POST', '/_coffer/time', { token: managementToken, body: { vault: name, advanceSeconds: seconds } });
      expect(answer.status, answer.text).toBe(200);
    };
    await shift(retention - 600);
    await expect(protectedSecrets.purgeDeletedSecret('kept')).rejects.toMatchObject({ statusCode: 403 });
    expect((await protectedSecrets.getDeletedSecret('kept')).name).toBe('kept');
    await shift(660);
    await expect(protectedSecrets.getDeletedSecret('kept')).rejects.toMatchObject({ statusCode: 404 });
  });
});
