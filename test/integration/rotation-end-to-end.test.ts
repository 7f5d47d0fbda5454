/**
 * Event-triggered rotation end to end on the running local stack (docs/rotation.md, "Locally"): a
 * PostgreSQL role's credential in a fresh vault, the reference rotator's loopback webhook (as its own
 * principal, Key Vault Secrets Officer on that secret alone) subscribed to the vault's
 * SecretNearExpiry by an Event Grid event subscription made with @azure/arm-eventgrid (README's
 * walk-through "Rotation on an event" does the same by hand), and the time shift moving
 * the vault's clock past exp - 30 days. The stack's own stream reader and scheduler announce the
 * near expiry, the webhook rotates, the new version's SecretNewVersionCreated arrives at a second
 * webhook, and the old password stops working.
 */
import { randomUUID } from 'node:crypto';
import { EventGridManagementClient } from '@azure/arm-eventgrid';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { type RotatorWebhook, startRotatorWebhook } from '../../dev/rotator-webhook.ts';
import { roleIds } from '../../lib/access/roles.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoDueStore } from '../../lib/aws/dynamo-schedule.ts';
import { parseCredential } from '../../lib/rotation/credential.ts';
import { PostgresRoleDatabase } from '../../lib/rotation/postgres.ts';
import { rotationWith } from '../../lib/runtime/rotation.ts';
import { startWebhook, waitFor } from '../support/events.ts';
import { adminSecretCredential, localStack, raw, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

const info = localStack();
const DAY = 86_400;
const ROLE = 'billing_app';
const eventGrid = new EventGridManagementClient(adminSecretCredential(info), info.subscriptionId, {
  endpoint: info.managementUrl,
  credentialScopes: [info.managementScope],
});
const cleanups: (() => Promise<unknown>)[] = [];
let server: PostgresServer;
let vaultName: string;
let vaultId: string;
let secrets: SecretClient;
let managementToken: string;
let rotator: RotatorWebhook;
let rotatorSecrets: SecretClient;
let recorder: Awaited<ReturnType<typeof startWebhook>>;
const secretName = uniqueName('billing-db');

/**
 * An Event Grid subscription on the vault for `eventType` of the secret, through the unmodified
 * management client: Coffer runs the webhook's validation handshake before the create answers, and
 * realizes it as a rule with an API destination on the stack's bus.
 */
async function subscribe(eventType: string, endpoint: string): Promise<void> {
  const name = uniqueName('rot');
  const poll = { updateIntervalInMs: 50 };
  const created = await eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(
    vaultId,
    name,
    {
      destination: { endpointType: 'WebHook', endpointUrl: endpoint },
      filter: { includedEventTypes: [eventType], subjectBeginsWith: secretName },
      eventDeliverySchema: 'EventGridSchema',
    },
    poll,
  );
  expect(created.provisioningState).toBe('Succeeded');
  cleanups.push(() => eventGrid.eventSubscriptions.beginDeleteAndWait(vaultId, name, poll));
}

async function advance(seconds: number): Promise<void> {
  const answer = await raw('POST', '/_coffer/time', { token: managementToken, body: { vault: vaultName, advanceSeconds: seconds } });
  expect(answer.status, answer.text).toBe(200);
}

beforeAll(async () => {
  server = await startPostgres();
  const admin = await server.admin();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD ${admin.escapeLiteral('billing-first')}`);
  await admin.end();
  const vault = await createLocalVault('rotatee2e');
  vaultName = vault.name;
  secrets = new SecretClient(vault.vaultUri, adminSecretCredential(info), { disableChallengeResourceVerification: true });
  managementToken = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
  // The rotator is its own principal with Key Vault Secrets Officer on the one secret it rotates (docs/rotation.md).
  vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
  await managementClients(info).authorization.roleAssignments.create(`${vaultId}/secrets/${secretName}`, randomUUID(), {
    roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.secretsOfficer}`,
    principalId: info.unprivileged.objectId,
    principalType: 'ServicePrincipal',
  });
  await secrets.setSecret('not-the-rotators', 'other');
  rotatorSecrets = new SecretClient(vault.vaultUri, unprivilegedCredential(info), { disableChallengeResourceVerification: true });
  rotator = await startRotatorWebhook(rotationWith(vault.vaultUri, unprivilegedCredential(info), { challengeResourceCheck: false }));
  recorder = await startWebhook();
  await subscribe('Microsoft.KeyVault.SecretNearExpiry', rotator.url);
  await subscribe('Microsoft.KeyVault.SecretNewVersionCreated', `${recorder.url}/hook`);
}, 240_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await rotator?.close();
  await recorder?.close();
  await server?.stop();
});

describe('SecretNearExpiry rotates the secret through a subscribed webhook', () => {
  it('after a time shift past the near expiry: a new version with the next expiry, its SecretNewVersionCreated, the old password refused', async () => {
    const exp = Math.floor(Date.now() / 1000) + 40 * DAY;
    const value = JSON.stringify({ host: server.host, port: server.port, database: 'postgres', username: ROLE, password: 'billing-first' });
    const first = await secrets.setSecret(secretName, value, {
      contentType: 'application/json',
      expiresOn: new Date(exp * 1000),
      tags: { 'rotation-period': 'P90D' },
    });
    // The gateway's stream reader keeps the near expiry's due item: wait for it before moving the clock.
    const db = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
    try {
      const dueStore = new DynamoDueStore(db, info.tables.objects);
      const slot = `secrets#${secretName.toLowerCase()}#nearexpiry`;
      const deadline = Date.now() + 20_000;
      while (!(await dueStore.get(vaultName, slot)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    } finally {
      db.destroy();
    }

    await advance(10 * DAY + 60);
    const deadline = Date.now() + 60_000;
    let current = await secrets.getSecret(secretName);
    while (current.properties.version === first.properties.version && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      current = await secrets.getSecret(secretName);
    }
    expect(current.properties.version).not.toBe(first.properties.version);
    // The expiry counts from the event's time, the vault's (exp - 30 days), not from real time.
    expect(current.properties.expiresOn!.getTime() / 1000).toBe(exp - 30 * DAY + 90 * DAY);
    const database = new PostgresRoleDatabase();
    expect(await database.authenticates(parseCredential(value))).toBe(false);
    expect(await database.authenticates(parseCredential(current.value!))).toBe(true);

    const created = await waitFor('the new version’s SecretNewVersionCreated', () =>
      recorder.received
        .flatMap((request) => JSON.parse(request.body) as { eventType: string; data: { Version: string } }[])
        .find((event) => event.data.Version === current.properties.version),
    );
    expect(created.eventType).toBe('Microsoft.KeyVault.SecretNewVersionCreated');

    // One near expiry, one rotation: the vault has the two versions only, and later scheduler runs add none.
    await new Promise((r) => setTimeout(r, 4_000));
    let versions = 0;
    for await (const _ of secrets.listPropertiesOfSecretVersions(secretName)) versions++;
    expect(versions).toBe(2);
    // Its principal reaches that secret only.
    await expect(rotatorSecrets.getSecret('not-the-rotators')).rejects.toMatchObject({ statusCode: 403 });
  });
});
