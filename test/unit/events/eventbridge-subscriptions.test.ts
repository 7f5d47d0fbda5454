/**
 * An event subscription realized on EventBridge through Coffer's own transport, against the local
 * EventBridge (which speaks EventBridge's wire protocol and delivers to API destinations), checked
 * with the official SDK: the rule, its target, connection and API destination, an event delivered to a
 * loopback webhook in each schema, and a create or delete retried converging.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeApiDestinationCommand,
  DescribeRuleCommand,
  EventBridgeClient as SdkClient,
  ListApiDestinationsCommand,
  ListConnectionsCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventBridge, startLocalEventBridge } from '../../../dev/eventbridge/server.ts';
import { EventBridgeClient } from '../../../lib/aws/api/eventbridge.ts';
import { EventBridgePublisher } from '../../../lib/aws/eventbridge-publisher.ts';
import { accountResourceName, EventBridgeSubscriptionRealizer, ruleName } from '../../../lib/aws/eventbridge-subscriptions.ts';
import { objectEvent, toCloudEvent } from '../../../lib/events/events.ts';
import { type EventSubscription, settingsFromPut, subscriptionUid } from '../../../lib/events/subscriptions.ts';
import { startWebhook, waitFor } from '../../support/events.ts';

const BUS = 'coffer-unit';
const credentials = { accessKeyId: 'AKIAEXAMPLELOCAL0002', secretAccessKey: 'local-test-secret-2' };
const topic = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/vault1';
const eventVault = { name: 'vault1', resourceId: topic, baseUrl: 'https://vault1.vault.example' };

let dir: string;
let local: LocalEventBridge;
let client: EventBridgeClient;
let sdk: SdkClient;
let realizer: EventBridgeSubscriptionRealizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-eb-subscriptions-'));
  local = await startLocalEventBridge({
    dataDir: join(dir, 'eventbridge'),
    credentials,
    buses: [BUS],
    eventsLog: join(dir, 'events.log'),
    deadLetterLog: join(dir, 'dead.log'),
    retryBaseMs: 50,
  });
  client = new EventBridgeClient({ region: 'us-east-1', endpoint: local.endpoint, credentials: () => credentials });
  sdk = new SdkClient({ endpoint: local.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  realizer = new EventBridgeSubscriptionRealizer(client, { bus: BUS, deadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:dead' });
});

afterAll(async () => {
  client?.destroy();
  sdk?.destroy();
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

function subscription(name: string, endpointUrl: string, properties: Record<string, unknown> = {}): EventSubscription {
  const settings = settingsFromPut(
    { properties: { destination: { endpointType: 'WebHook', properties: { endpointUrl } }, ...properties } },
    Date.now(),
  );
  return { ...settings, vault: 'vault1', topic, name, uid: subscriptionUid(topic, name), createdAt: 'c', updatedAt: 'u' };
}

const event = (name: string) =>
  objectEvent('NewVersionCreated', { vault: eventVault, collection: 'secrets', name, version: '0123456789abcdef0123456789abcdef' }, 1_700_000_000);

describe('a subscription on EventBridge', () => {
  it('becomes a rule with an API destination target, and delivers the Event Grid array to the webhook', async () => {
    const webhook = await startWebhook();
    try {
      const sub = subscription('hook-eg', `${webhook.url}/api/updates?code=s3cret`, {
        filter: { subjectBeginsWith: 'db-' },
        retryPolicy: { maxDeliveryAttempts: 3, eventTimeToLiveInMinutes: 10 },
      });
      await realizer.realize(sub);
      // A retried create converges on the same resources.
      await realizer.realize(sub);

      const rule = await sdk.send(new DescribeRuleCommand({ Name: ruleName(sub.uid), EventBusName: BUS }));
      expect(JSON.parse(rule.EventPattern!)).toEqual({
        source: ['coffer.keyvault'],
        resources: [topic],
        detail: { subject: [{ prefix: { 'equals-ignore-case': 'db-' } }] },
      });
      const { Targets } = await sdk.send(new ListTargetsByRuleCommand({ Rule: ruleName(sub.uid), EventBusName: BUS }));
      expect(Targets).toHaveLength(1);
      expect(Targets![0]).toMatchObject({
        Id: 'webhook',
        InputTransformer: { InputPathsMap: { detail: '$.detail' }, InputTemplate: '[<detail>]' },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:dead' },
      });
      const destination = await sdk.send(new DescribeApiDestinationCommand({ Name: accountResourceName(BUS, sub.uid) }));
      // The query (often a key) is the connection's secret, not the destination's URL.
      expect(destination.InvocationEndpoint).toBe(`${webhook.url}/api/updates`);
      expect((await sdk.send(new ListConnectionsCommand({ NamePrefix: `${BUS}-es-` }))).Connections).toHaveLength(1);

      const publisher = new EventBridgePublisher(client, BUS);
      await publisher.publish([event('web-1'), event('DB-orders')]);
      const [received] = await waitFor('the delivery', () => webhook.received.length > 0 && webhook.received);
      expect(JSON.parse(received!.body)).toEqual([event('DB-orders')]);
      expect(received!.url).toBe('/api/updates?code=s3cret');
      expect(received!.headers['aeg-event-type']).toBe('Notification');
      expect(received!.headers['aeg-subscription-name']).toBe('HOOK-EG');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(webhook.received).toHaveLength(1);
    } finally {
      await webhook.close();
    }
  });

  it('delivers a CloudEvent with its content type to a CloudEvents subscription', async () => {
    const webhook = await startWebhook();
    try {
      const sub = subscription('hook-ce', `${webhook.url}/ce`, {
        eventDeliverySchema: 'CloudEventSchemaV1_0',
        filter: { includedEventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated'], subjectEndsWith: '-ce' },
      });
      await realizer.realize(sub);
      await new EventBridgePublisher(client, BUS).publish([event('x-ce')]);
      const [received] = await waitFor('the delivery', () => webhook.received.length > 0 && webhook.received);
      expect(JSON.parse(received!.body)).toEqual(toCloudEvent(event('x-ce')));
      expect(received!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    } finally {
      await webhook.close();
    }
  });

  it('is removed whole, and a retried removal converges', async () => {
    const sub = subscription('hook-gone', 'http://127.0.0.1:9/x');
    await realizer.realize(sub);
    await realizer.remove(sub);
    await realizer.remove(sub);
    const { Rules } = await sdk.send(new ListRulesCommand({ EventBusName: BUS, NamePrefix: ruleName(sub.uid) }));
    expect(Rules).toEqual([]);
    const name = accountResourceName(BUS, sub.uid);
    expect((await sdk.send(new ListApiDestinationsCommand({ NamePrefix: name }))).ApiDestinations).toEqual([]);
    expect((await sdk.send(new ListConnectionsCommand({ NamePrefix: name }))).Connections).toEqual([]);
  });
});
