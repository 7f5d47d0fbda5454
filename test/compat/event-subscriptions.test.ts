import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventSubscription, EventGridManagementClient } from '@azure/arm-eventgrid';
import { ListApiDestinationsCommand, ListConnectionsCommand, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, describe, expect, it } from 'vitest';
import { roleIds } from '../../lib/access/roles.ts';
import { subscriptionUid } from '../../lib/events/subscriptions.ts';
import { eventBridgeClient, waitFor } from '../support/events.ts';
import { adminSecretCredential, localStack, rolelessCredential, secretClient, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { createLocalVault, managementClients } from '../support/vaults.ts';

/**
 * Event Grid event subscriptions on a vault through the unmodified EventGridManagementClient against
 * the local stack: the validation handshake (a webhook that answers it, one that does not), get, list,
 * update, delete, getFullUrl; events arriving at the webhook with the documented fields, filtered, in
 * the Event Grid schema and in CloudEvents 1.0; precise 400s; 403 for a principal without a role.
 */
const info = localStack();
const credential = adminSecretCredential(info);
const clientOptions = { endpoint: info.managementUrl, credentialScopes: [info.managementScope], retryOptions: { maxRetries: 0 } };
const eventGrid = new EventGridManagementClient(credential, info.subscriptionId, clientOptions);
const vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${info.vaultName}`;
const poll = { updateIntervalInMs: 50 };
const secrets = secretClient(credential, info);

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook on loopback that completes Event Grid's handshakes (unless told to refuse) and keeps every notification. */
async function startReceiver(options: { refuse?: boolean } = {}) {
  const notifications: Received[] = [];
  const handshakes: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      if (request.method === 'OPTIONS') {
        handshakes.push(received);
        if (options.refuse) response.writeHead(403).end();
        else response.writeHead(200, { 'WebHook-Allowed-Origin': String(request.headers['webhook-request-origin']) }).end();
        return;
      }
      if (request.headers['aeg-event-type'] === 'SubscriptionValidation') {
        handshakes.push(received);
        if (options.refuse) {
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"validationResponse":"wrong"}');
          return;
        }
        const [event] = JSON.parse(received.body);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: event.data.validationCode }));
        return;
      }
      notifications.push(received);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, notifications, handshakes, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function receiver(options: { refuse?: boolean } = {}) {
  const started = await startReceiver(options);
  cleanups.push(started.close);
  return started;
}

async function subscribe(name: string, body: EventSubscription): Promise<EventSubscription> {
  cleanups.push(() => eventGrid.eventSubscriptions.beginDeleteAndWait(vaultId, name, poll));
  return eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(vaultId, name, body, poll);
}

const eventsIn = (requests: Received[]) => requests.flatMap((request) => JSON.parse(request.body) as any[]).flat();

describe('event subscriptions through EventGridManagementClient', () => {
  it('creates after the handshake, reads, lists, updates and deletes', async () => {
    const hook = await receiver();
    const name = uniqueName('es-life');
    const created = await subscribe(name, {
      destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/api/updates?code=s3cret` },
      filter: { includedEventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated'], subjectBeginsWith: 'db-' },
      labels: ['compat'],
    });
    expect(hook.handshakes).toHaveLength(1);
    expect(hook.handshakes[0]!.headers['aeg-event-type']).toBe('SubscriptionValidation');
    expect(created).toMatchObject({
      id: `${vaultId}/providers/Microsoft.EventGrid/eventSubscriptions/${name}`,
      name,
      type: 'Microsoft.EventGrid/eventSubscriptions',
      topic: vaultId,
      provisioningState: 'Succeeded',
      destination: { endpointType: 'WebHook', endpointBaseUrl: `${hook.url}/api/updates` },
      filter: { includedEventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated'], subjectBeginsWith: 'db-', isSubjectCaseSensitive: false },
      labels: ['compat'],
      eventDeliverySchema: 'EventGridSchema',
      retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
    });
    // Azure never answers the query of the webhook's URL, which often carries its key: getFullUrl does.
    expect(JSON.stringify(created)).not.toContain('s3cret');
    expect(await eventGrid.eventSubscriptions.getFullUrl(vaultId, name)).toEqual({ endpointUrl: `${hook.url}/api/updates?code=s3cret` });

    expect(await eventGrid.eventSubscriptions.get(vaultId, name)).toMatchObject({ name, provisioningState: 'Succeeded' });
    const listed = [];
    for await (const subscription of eventGrid.eventSubscriptions.listByResource(info.resourceGroup, 'Microsoft.KeyVault', 'vaults', info.vaultName))
      listed.push(subscription.name);
    expect(listed).toContain(name);

    const updated = await eventGrid.eventSubscriptions.beginUpdateAndWait(vaultId, name, { filter: { subjectEndsWith: '-prod' } }, poll);
    expect(updated.filter).toMatchObject({ subjectEndsWith: '-prod', isSubjectCaseSensitive: false });
    expect(updated.filter?.subjectBeginsWith).toBeUndefined();
    // The endpoint did not change: no second handshake.
    expect(hook.handshakes).toHaveLength(1);

    await eventGrid.eventSubscriptions.beginDeleteAndWait(vaultId, name, poll);
    await expect(eventGrid.eventSubscriptions.get(vaultId, name)).rejects.toMatchObject({ statusCode: 404 });
    // A second delete converges.
    await eventGrid.eventSubscriptions.beginDeleteAndWait(vaultId, name, poll);
  });

  it("a webhook that fails the handshake gets Azure's 400 and nothing is stored", async () => {
    const hook = await receiver({ refuse: true });
    const name = uniqueName('es-refused');
    const failed = eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(
      vaultId,
      name,
      { destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/hook` } },
      poll,
    );
    await expect(failed).rejects.toMatchObject({ statusCode: 400, code: 'Url validation' });
    await expect(failed).rejects.toThrow(`Webhook validation handshake failed for ${hook.url}/hook.`);
    expect(hook.handshakes).toHaveLength(1);
    await expect(eventGrid.eventSubscriptions.get(vaultId, name)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('delivers the filtered events with the documented fields, in the Event Grid schema', async () => {
    const hook = await receiver();
    const prefix = uniqueName('evgrid');
    await subscribe(uniqueName('es-eg'), {
      destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/eg` },
      filter: { includedEventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated'], subjectBeginsWith: prefix, subjectEndsWith: '-prod' },
    });
    const wanted = `${prefix}-db-prod`;
    await secrets.setSecret(`${prefix}-db-test`, 'not this one');
    await secrets.setSecret(`other-${randomUUID().slice(0, 8)}-prod`, 'nor this one');
    const secret = await secrets.setSecret(wanted, 'this one', { expiresOn: new Date('2031-01-01T00:00:00Z') });

    const [event] = await waitFor('the event at the webhook', () => eventsIn(hook.notifications).length > 0 && eventsIn(hook.notifications));
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: vaultId,
      subject: wanted,
      eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      eventTime: expect.any(String),
      data: {
        Id: expect.stringMatching(new RegExp(`/secrets/${wanted}/${secret.properties.version}$`)),
        VaultName: info.vaultName,
        ObjectType: 'Secret',
        ObjectName: wanted,
        Version: secret.properties.version,
        EXP: Date.parse('2031-01-01T00:00:00Z') / 1000,
      },
      dataVersion: '1',
      metadataVersion: '1',
    });
    expect(hook.notifications[0]!.headers['aeg-event-type']).toBe('Notification');
    // The others never arrive.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(eventsIn(hook.notifications).map((e) => e.subject)).toEqual([wanted]);
  });

  it('delivers CloudEvents 1.0 after the OPTIONS handshake', async () => {
    const hook = await receiver();
    const prefix = uniqueName('evce');
    await subscribe(uniqueName('es-ce'), {
      destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/ce` },
      eventDeliverySchema: 'CloudEventSchemaV1_0',
      filter: { subjectBeginsWith: prefix },
    });
    expect(hook.handshakes.map((h) => [h.method, h.headers['webhook-request-origin']])).toEqual([['OPTIONS', 'eventgrid.azure.net']]);
    const name = `${prefix}-x`;
    const secret = await secrets.setSecret(name, 'v');
    const [received] = await waitFor('the CloudEvent', () => hook.notifications.length > 0 && hook.notifications);
    expect(received!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(JSON.parse(received!.body)).toEqual({
      specversion: '1.0',
      id: expect.any(String),
      source: vaultId,
      subject: name,
      type: 'Microsoft.KeyVault.SecretNewVersionCreated',
      time: expect.any(String),
      datacontenttype: 'application/json',
      data: expect.objectContaining({ ObjectName: name, Version: secret.properties.version, VaultName: info.vaultName }),
    });
  });

  it.each([
    [{ filter: { includedEventTypes: ['Microsoft.Storage.BlobCreated'] } }, "Invalid event type 'Microsoft.Storage.BlobCreated'"],
    [{ retryPolicy: { maxDeliveryAttempts: 31 } }, "'retryPolicy.maxDeliveryAttempts' has an invalid value"],
    [{ retryPolicy: { eventTimeToLiveInMinutes: 0 } }, "'retryPolicy.eventTimeToLiveInMinutes' has an invalid value"],
    [{ destination: { endpointType: 'WebHook', endpointUrl: 'http://192.0.2.1/hook' } }, 'Webhook validation handshake failed'],
  ] as [EventSubscription, string][])('refuses %j with a precise 400', async (body, message) => {
    const hook = await receiver();
    const request = { destination: { endpointType: 'WebHook' as const, endpointUrl: `${hook.url}/x` }, ...body };
    const failed = eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(vaultId, uniqueName('es-bad'), request, poll);
    await expect(failed).rejects.toMatchObject({ statusCode: 400 });
    await expect(failed).rejects.toThrow(message);
  });

  it('refuses a principal without a role at the vault (403)', async () => {
    const roleless = new EventGridManagementClient(rolelessCredential(info), info.subscriptionId, clientOptions);
    const hook = await receiver();
    await expect(
      roleless.eventSubscriptions.beginCreateOrUpdateAndWait(
        vaultId,
        uniqueName('es-denied'),
        { destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/x` } },
        poll,
      ),
    ).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    await expect(roleless.eventSubscriptions.get(vaultId, 'whatever')).rejects.toMatchObject({ statusCode: 403 });
    expect(hook.handshakes).toEqual([]);
  });

  it("a vault's Reader reads its subscriptions but not their full URL, and a purged vault's subscriptions are gone from the bus", async () => {
    const { vaults, authorization } = managementClients(info);
    const vault = await createLocalVault('esvault');
    const id = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault.name}`;
    const purge = async () => {
      await vaults.vaults.delete(info.resourceGroup, vault.name).catch(() => undefined);
      await vaults.vaults.purgeDeleted(vault.name, 'eastus').catch(() => undefined);
    };
    cleanups.push(purge);
    const hook = await receiver();
    const name = uniqueName('es-read');
    await eventGrid.eventSubscriptions.beginCreateOrUpdateAndWait(
      id,
      name,
      { destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/r?k=1` } },
      poll,
    );

    await authorization.roleAssignments.create(id, randomUUID(), {
      roleDefinitionId: `/subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleIds.reader}`,
      principalId: info.unprivileged.objectId,
      principalType: 'ServicePrincipal',
    });
    const reader = new EventGridManagementClient(unprivilegedCredential(info), info.subscriptionId, clientOptions);
    // Access decisions are cached for up to 5 seconds.
    let answered: EventSubscription | undefined;
    for (let attempt = 0; attempt < 30 && !answered; attempt++) {
      answered = await reader.eventSubscriptions.get(id, name).catch(() => undefined);
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(answered?.name).toBe(name);
    await expect(reader.eventSubscriptions.getFullUrl(id, name)).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    await expect(
      reader.eventSubscriptions.beginCreateOrUpdateAndWait(
        id,
        uniqueName('es-nope'),
        { destination: { endpointType: 'WebHook', endpointUrl: `${hook.url}/n` } },
        poll,
      ),
    ).rejects.toMatchObject({ statusCode: 403 });
    await expect(reader.eventSubscriptions.beginDeleteAndWait(id, name, poll)).rejects.toMatchObject({ statusCode: 403 });

    const uid = subscriptionUid(id, name);
    const eventBridge = eventBridgeClient(info);
    try {
      expect((await eventBridge.send(new ListRulesCommand({ EventBusName: info.eventBus, NamePrefix: `es-${uid}` }))).Rules).toHaveLength(1);
      await purge();
      expect((await eventBridge.send(new ListRulesCommand({ EventBusName: info.eventBus, NamePrefix: `es-${uid}` }))).Rules).toEqual([]);
      expect((await eventBridge.send(new ListApiDestinationsCommand({ NamePrefix: `${info.eventBus}-es-${uid}` }))).ApiDestinations).toEqual([]);
      expect((await eventBridge.send(new ListConnectionsCommand({ NamePrefix: `${info.eventBus}-es-${uid}` }))).Connections).toEqual([]);
    } finally {
      eventBridge.destroy();
    }
  });
});
