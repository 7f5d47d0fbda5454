/**
 * Every Key Vault event type through the running local stack and an Event Grid subscription made
 * with the unmodified @azure/arm-eventgrid client (issue #14's test list): a secret, a key and a
 * certificate written with expiry dates, the vault's access policies changed, and the vault's clock
 * moved past each near expiry and expiry. Each (type, object) arrives at the webhook exactly once
 * after de-duplication by id, with the documented fields; deliveries that repeat an id carry the same
 * event.
 */
import { randomUUID } from 'node:crypto';
import { EventGridManagementClient } from '@azure/arm-eventgrid';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_VAULT_EVENT_TYPES } from '../../lib/events/events.ts';
import { startWebhook, waitFor } from '../support/events.ts';
import { adminSecretCredential, localStack, raw } from '../support/local.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

const info = localStack();
const DAY = 86_400;
const credential = adminSecretCredential(info);
const clientOptions = { disableChallengeResourceVerification: true };
const poll = { updateIntervalInMs: 50 };
let vaultName: string;
let vaultId: string;
let vaultUri: string;
let managementToken: string;
let webhook: Awaited<ReturnType<typeof startWebhook>>;
const eventGrid = new EventGridManagementClient(credential, info.subscriptionId, {
  endpoint: info.managementUrl,
  credentialScopes: [info.managementScope],
});

interface DeliveredEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: { Id: string; VaultName: string; ObjectType: string; ObjectName: string; Version?: string; NBF?: number; EXP?: number };
  dataVersion: string;
  metadataVersion: string;
}

/** What the webhook received, one entry per event id (a redelivery must be the same event). */
function delivered(): Map<string, DeliveredEvent> {
  const byId = new Map<string, DeliveredEvent>();
  for (const request of webhook.received) {
    for (const event of JSON.parse(request.body) as DeliveredEvent[]) {
      const seen = byId.get(event.id);
      if (seen) expect(event).toEqual(seen);
      byId.set(event.id, event);
    }
  }
  return byId;
}

function ofType(type: string, subject: string): DeliveredEvent[] {
  return [...delivered().values()].filter((e) => e.eventType === `Microsoft.KeyVault.${type}` && e.subject === subject);
}

async function arrives(type: string, subject: string): Promise<DeliveredEvent> {
  return waitFor(`${type} of ${subject}`, () => ofType(type, subject)[0], 30_000);
}

async function advance(seconds: number): Promise<void> {
  const answer = await raw('POST', '/_coffer/time', { token: managementToken, body: { vault: vaultName, advanceSeconds: seconds } });
  expect(answer.status, answer.text).toBe(200);
}

beforeAll(async () => {
  const vault = await createLocalVault('evtypes');
  vaultName = vault.name;
  vaultUri = vault.vaultUri.replace(/\/+$/, '');
  vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
  managementToken = (await credential.getToken(info.managementScope))!.token;
  webhook = await startWebhook();
  // No filter: every event type of the vault.
  const created = await eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(
    vaultId,
    'every-type',
    { destination: { endpointType: 'WebHook', endpointUrl: `${webhook.url}/events` } },
    poll,
  );
  expect(created.provisioningState).toBe('Succeeded');
}, 120_000);

afterAll(async () => {
  await eventGrid.eventSubscriptions.beginDeleteAndWait(vaultId, 'every-type', poll).catch(() => undefined);
  await webhook?.close();
});

describe('every Key Vault event type', () => {
  it('arrives once per change with the documented fields, as the vault changes and its clock passes each date', async () => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + 40 * DAY;
    const secrets = new SecretClient(vaultUri, credential, clientOptions);
    const keys = new KeyClient(vaultUri, credential, clientOptions);
    const certificates = new CertificateClient(vaultUri, credential, clientOptions);

    const secret = await secrets.setSecret('ev-secret', 'value', { expiresOn: new Date(exp * 1000) });
    const key = await keys.createEcKey('ev-key', { curve: 'P-256', expiresOn: new Date(exp * 1000) });
    // Two months' validity; EmailContacts 30 days before expiry is its near-expiry notice (no renewal).
    const certificate = await (
      await certificates.beginCreateCertificate(
        'ev-cert',
        {
          issuerName: 'Self',
          subject: 'CN=ev-cert.example',
          validityInMonths: 2,
          lifetimeActions: [{ action: 'EmailContacts', daysBeforeExpiry: 30 }],
        },
        { intervalInMs: 50 },
      )
    ).pollUntilDone();
    const certificateExp = Math.floor(certificate.properties.expiresOn!.getTime() / 1000);
    await managementClients(info).vaults.vaults.updateAccessPolicy(info.resourceGroup, vaultName, 'add', {
      properties: { accessPolicies: [{ tenantId: info.tenantId, objectId: randomUUID(), permissions: { secrets: ['get'] } }] },
    });

    const newSecret = await arrives('SecretNewVersionCreated', 'ev-secret');
    expect(newSecret).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: vaultId,
      subject: 'ev-secret',
      eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      eventTime: expect.any(String),
      data: {
        Id: secret.properties.id,
        VaultName: vaultName,
        ObjectType: 'Secret',
        ObjectName: 'ev-secret',
        Version: secret.properties.version,
        EXP: exp,
      },
      dataVersion: '1',
      metadataVersion: '1',
    });
    expect((await arrives('KeyNewVersionCreated', 'ev-key')).data).toMatchObject({
      Id: key.id,
      ObjectType: 'Key',
      Version: key.properties.version,
      EXP: exp,
    });
    expect((await arrives('CertificateNewVersionCreated', 'ev-cert')).data).toMatchObject({
      Id: certificate.properties.id,
      ObjectType: 'Certificate',
      Version: certificate.properties.version,
      EXP: certificateExp,
    });
    const access = await arrives('VaultAccessPolicyChanged', vaultName);
    expect(access).toMatchObject({ topic: vaultId, data: { VaultName: vaultName, ObjectType: 'Vault', ObjectName: vaultName } });

    // Past the secret's and the key's near expiry (exp - 30 days) and the certificate's (its EmailContacts).
    await advance(certificateExp - 30 * DAY - now + DAY);
    for (const [type, subject, version] of [
      ['SecretNearExpiry', 'ev-secret', secret.properties.version],
      ['KeyNearExpiry', 'ev-key', key.properties.version],
      ['CertificateNearExpiry', 'ev-cert', certificate.properties.version],
    ] as const) {
      expect((await arrives(type, subject)).data.Version, type).toBe(version);
    }
    expect(ofType('SecretExpired', 'ev-secret')).toEqual([]);

    // Past every exp.
    await advance(certificateExp - now + DAY);
    for (const [type, subject, expiry] of [
      ['SecretExpired', 'ev-secret', exp],
      ['KeyExpired', 'ev-key', exp],
      ['CertificateExpired', 'ev-cert', certificateExp],
    ] as const) {
      expect((await arrives(type, subject)).data.EXP, type).toBe(expiry);
    }

    // Later scheduler runs add nothing: each (type, object) once, and all ten types seen.
    await advance(60);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const subjects = { Secret: 'ev-secret', Key: 'ev-key', Certificate: 'ev-cert', Vault: vaultName } as const;
    for (const type of KEY_VAULT_EVENT_TYPES) {
      const short = type.replace('Microsoft.KeyVault.', '');
      const kind = (Object.keys(subjects) as (keyof typeof subjects)[]).find((k) => short.startsWith(k))!;
      expect(ofType(short, subjects[kind]), type).toHaveLength(1);
    }
  });
});
