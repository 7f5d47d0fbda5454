import { describe, expect, it } from 'vitest';
import { matchesPattern, parseEventPattern } from '../../../dev/eventbridge/pattern.ts';
import { targetBody } from '../../../dev/eventbridge/transform.ts';
import { MemoryEventSubscriptionStore } from '../../../lib/events/memory-subscriptions.ts';
import { subscriptionResource } from '../../../lib/events/subscription-wire.ts';
import { accessPolicyChangedEvent, type EventGridEvent, objectEvent, toCloudEvent } from '../../../lib/events/events.ts';
import {
  type EventSubscription,
  EventSubscriptions,
  inputTransformer,
  queryParametersOf,
  retryPolicyOf,
  rulePattern,
  settingsFromPatch,
  settingsFromPut,
  subscriptionUid,
  type SubscriptionRealizer,
  validateWebhook,
  type WebhookClient,
  type WebhookRequest,
  type WebhookResponse,
} from '../../../lib/events/subscriptions.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const topic = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/vault1';
const vault = { name: 'vault1', resourceId: topic };
const eventVault = { name: 'vault1', resourceId: topic, baseUrl: 'https://vault1.vault.example' };
const webhook = (endpointUrl = 'https://hooks.example/api/updates?code=s3cret') => ({
  destination: { endpointType: 'WebHook', properties: { endpointUrl } },
});

function put(properties: Record<string, unknown>) {
  return settingsFromPut({ properties: { ...webhook(), ...properties } }, NOW);
}

function refusal(run: () => unknown): { status: number; code: string; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as { status: number; code: string; message: string };
    return { status: e.status, code: e.code, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('the EventSubscription shape', () => {
  it("takes Event Grid's defaults for what a PUT leaves out", () => {
    expect(settingsFromPut({ properties: webhook() }, NOW)).toEqual({
      endpointUrl: 'https://hooks.example/api/updates?code=s3cret',
      filter: { isSubjectCaseSensitive: false },
      eventDeliverySchema: 'EventGridSchema',
      retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
      labels: [],
    });
  });

  it('keeps Key Vault event types in their canonical spelling, and refuses any other type precisely', () => {
    expect(
      put({ filter: { includedEventTypes: ['microsoft.keyvault.secretnewversioncreated', 'Microsoft.KeyVault.KeyExpired'] } }).filter
        .includedEventTypes,
    ).toEqual(['Microsoft.KeyVault.SecretNewVersionCreated', 'Microsoft.KeyVault.KeyExpired']);
    const refused = refusal(() => put({ filter: { includedEventTypes: ['Microsoft.Storage.BlobCreated'] } }));
    expect(refused.status).toBe(400);
    expect(refused.code).toBe('InvalidRequest');
    expect(refused.message).toContain("Invalid event type 'Microsoft.Storage.BlobCreated' in 'filter.includedEventTypes'");
    expect(refused.message).toContain('Microsoft.KeyVault.VaultAccessPolicyChanged');
  });

  it.each([
    [{ retryPolicy: { maxDeliveryAttempts: 0 } }, "'retryPolicy.maxDeliveryAttempts' has an invalid value. It must be an integer between 1 and 30."],
    [{ retryPolicy: { maxDeliveryAttempts: 31 } }, "'retryPolicy.maxDeliveryAttempts' has an invalid value. It must be an integer between 1 and 30."],
    [
      { retryPolicy: { eventTimeToLiveInMinutes: 1441 } },
      "'retryPolicy.eventTimeToLiveInMinutes' has an invalid value. It must be an integer between 1 and 1440.",
    ],
    [{ eventDeliverySchema: 'CustomInputSchema' }, "'eventDeliverySchema' has an unsupported value"],
    [{ destination: { endpointType: 'StorageQueue', properties: {} } }, "'destination.endpointType' has an unsupported value 'StorageQueue'"],
    [{ destination: { endpointType: 'WebHook', properties: {} } }, "'destination.properties.endpointUrl' is required"],
    [{ destination: { endpointType: 'WebHook', properties: { endpointUrl: 'not a url' } } }, 'is not a valid absolute URL'],
    [{ destination: { endpointType: 'WebHook', properties: { endpointUrl: 'ftp://hooks.example/' } } }, 'must be an http or https URL'],
    [{ expirationTimeUtc: '2020-01-01T00:00:00Z' }, "'expirationTimeUtc' must be in the future"],
    [{ labels: 'one' }, "'labels' must be an array of strings"],
    [{ filter: { isSubjectCaseSensitive: 'yes' } }, "'filter.isSubjectCaseSensitive' must be a boolean"],
    [
      { filter: { advancedFilters: [{ operatorType: 'StringIn', key: 'data.ObjectType', values: ['Secret'] }] } },
      "'filter.advancedFilters' is not supported",
    ],
    [{ deadLetterDestination: { endpointType: 'StorageBlob' } }, "'deadLetterDestination' is not supported"],
  ])('refuses %j with a precise 400', (properties, message) => {
    const refused = refusal(() => put(properties));
    expect(refused).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(refused.message).toContain(message);
  });

  it('a PATCH changes only what it names, and never the delivery schema', () => {
    const existing = put({ filter: { subjectBeginsWith: 'db-' }, labels: ['a'] });
    const patched = settingsFromPatch({ filter: { subjectEndsWith: '-prod' } }, NOW, existing);
    expect(patched).toEqual({ ...existing, filter: { subjectEndsWith: '-prod', isSubjectCaseSensitive: false } });
    expect(settingsFromPatch({ labels: ['b'] }, NOW, existing)).toEqual({ ...existing, labels: ['b'] });
    expect(refusal(() => settingsFromPatch({ eventDeliverySchema: 'CloudEventSchemaV1_0' }, NOW, existing)).message).toContain('cannot be changed');
  });

  it('answers endpointBaseUrl and never the query of the full URL', () => {
    const subscription = stored(put({}));
    const resource = subscriptionResource(subscription) as any;
    expect(resource).toMatchObject({
      id: `${topic}/providers/Microsoft.EventGrid/eventSubscriptions/hook-1`,
      name: 'hook-1',
      type: 'Microsoft.EventGrid/eventSubscriptions',
      properties: {
        topic,
        provisioningState: 'Succeeded',
        destination: { endpointType: 'WebHook', properties: { endpointBaseUrl: 'https://hooks.example/api/updates' } },
        eventDeliverySchema: 'EventGridSchema',
        retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
      },
    });
    expect(JSON.stringify(resource)).not.toContain('s3cret');
    expect(queryParametersOf(subscription.endpointUrl)).toEqual([{ Key: 'code', Value: 's3cret' }]);
  });
});

function stored(settings: ReturnType<typeof put>, name = 'hook-1'): EventSubscription {
  return { ...settings, vault: 'vault1', topic, name, uid: subscriptionUid(topic, name), createdAt: 'c', updatedAt: 'u' };
}

/** An event as the publisher puts it on the bus (lib/aws/eventbridge-publisher.ts), as EventBridge hands it to a rule. */
function busEvent(event: EventGridEvent, resources = [event.topic]): Record<string, unknown> {
  return {
    version: '0',
    id: 'b0f1',
    'detail-type': event.eventType,
    source: 'coffer.keyvault',
    account: '000000000000',
    time: event.eventTime,
    region: 'us-east-1',
    resources,
    detail: event,
  };
}

const secretEvent = (name: string, vaultOf = eventVault) =>
  objectEvent(
    'NewVersionCreated',
    { vault: vaultOf, collection: 'secrets', name, version: '0123456789abcdef0123456789abcdef', exp: 1_900_000_000 },
    NOW / 1000,
  );

describe('the EventBridge rule of a subscription', () => {
  const matches = (settings: ReturnType<typeof put>, event: EventGridEvent, resources?: string[]) =>
    matchesPattern(parseEventPattern(JSON.stringify(rulePattern(stored(settings)))), busEvent(event, resources));

  it("matches this vault's events only", () => {
    const all = put({});
    expect(matches(all, secretEvent('db'))).toBe(true);
    const other = { ...eventVault, name: 'vault2', resourceId: topic.replace('vault1', 'vault2') };
    expect(matches(all, secretEvent('db', other))).toBe(false);
  });

  it('filters on the included event types', () => {
    const keysOnly = put({ filter: { includedEventTypes: ['Microsoft.KeyVault.KeyNewVersionCreated'] } });
    expect(matches(keysOnly, secretEvent('db'))).toBe(false);
    expect(matches(keysOnly, objectEvent('NewVersionCreated', { vault: eventVault, collection: 'keys', name: 'k', version: 'v' }, 1))).toBe(true);
  });

  it('requires the subject prefix AND the suffix, case-insensitively unless asked', () => {
    const both = put({ filter: { subjectBeginsWith: 'db-', subjectEndsWith: '-prod' } });
    expect(matches(both, secretEvent('DB-orders-PROD'))).toBe(true);
    expect(matches(both, secretEvent('db-orders-test'))).toBe(false);
    expect(matches(both, secretEvent('web-orders-prod'))).toBe(false);
    const exact = put({ filter: { subjectBeginsWith: 'db-', isSubjectCaseSensitive: true } });
    expect(matches(exact, secretEvent('db-x'))).toBe(true);
    expect(matches(exact, secretEvent('DB-x'))).toBe(false);
    const vaultEvents = put({ filter: { subjectEndsWith: 'ult1' } });
    expect(matches(vaultEvents, accessPolicyChangedEvent(eventVault, 3, 1))).toBe(true);
  });

  it('writes the Event Grid array, or one CloudEvent', () => {
    const event = secretEvent('db');
    const context = { event: busEvent(event), ruleArn: 'arn:rule', ruleName: 'rule' };
    expect(JSON.parse(targetBody({ InputTransformer: inputTransformer('EventGridSchema') }, context))).toEqual([event]);
    expect(JSON.parse(targetBody({ InputTransformer: inputTransformer('CloudEventSchemaV1_0') }, context))).toEqual(toCloudEvent(event));
  });

  it('counts retries as EventBridge does (Event Grid counts the first attempt)', () => {
    expect(retryPolicyOf(stored(put({ retryPolicy: { maxDeliveryAttempts: 1, eventTimeToLiveInMinutes: 1 } })))).toEqual({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });
});

class FakeWebhook implements WebhookClient {
  readonly requests: { url: string; request: WebhookRequest }[] = [];
  constructor(private readonly answer: (request: WebhookRequest) => WebhookResponse | Promise<WebhookResponse>) {}
  async send(url: string, request: WebhookRequest): Promise<WebhookResponse> {
    this.requests.push({ url, request });
    return this.answer(request);
  }
}

const echoValidation = (request: WebhookRequest): WebhookResponse => {
  const [event] = JSON.parse(request.body ?? '[]');
  return { status: 200, headers: {}, body: JSON.stringify({ validationResponse: event.data.validationCode }) };
};

describe('the validation handshake', () => {
  it('EventGridSchema POSTs a SubscriptionValidationEvent and wants its code back', async () => {
    const client = new FakeWebhook(echoValidation);
    await validateWebhook(
      client,
      { endpointUrl: 'https://hooks.example/x?code=1', eventDeliverySchema: 'EventGridSchema', topic, name: 'hook-1' },
      NOW,
    );
    const [{ url, request }] = client.requests as [{ url: string; request: WebhookRequest }];
    expect(url).toBe('https://hooks.example/x?code=1');
    expect(request.method).toBe('POST');
    expect(request.headers['aeg-event-type']).toBe('SubscriptionValidation');
    const [event] = JSON.parse(request.body!);
    expect(event).toMatchObject({
      topic,
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      data: { validationCode: expect.any(String) },
    });
  });

  it.each([
    ['a wrong code', () => ({ status: 200, headers: {}, body: '{"validationResponse":"nope"}' }), 'retuned 2XX response with invalid response'],
    ['a 404', () => ({ status: 404, headers: {}, body: '' }), 'Http POST request failed with response code 404.'],
    ['a redirect', () => ({ status: 302, headers: { location: 'http://169.254.169.254/' }, body: '' }), 'response code 302'],
  ])("refuses %s with Azure's 400 Url validation", async (_what, answer, message) => {
    const failed = validateWebhook(
      new FakeWebhook(answer),
      { endpointUrl: 'https://hooks.example/x', eventDeliverySchema: 'EventGridSchema', topic, name: 'h' },
      NOW,
    );
    await expect(failed).rejects.toMatchObject({ status: 400, code: 'Url validation' });
    await expect(failed).rejects.toThrow(message);
    await expect(failed).rejects.toThrow('Webhook validation handshake failed for https://hooks.example/x.');
  });

  it('CloudEvents sends the OPTIONS abuse-protection request and wants WebHook-Allowed-Origin', async () => {
    const allowing = new FakeWebhook(() => ({ status: 200, headers: { 'webhook-allowed-origin': 'eventgrid.azure.net' }, body: '' }));
    await validateWebhook(allowing, { endpointUrl: 'https://hooks.example/ce', eventDeliverySchema: 'CloudEventSchemaV1_0', topic, name: 'h' }, NOW);
    expect(allowing.requests[0]?.request).toMatchObject({ method: 'OPTIONS', headers: { 'webhook-request-origin': 'eventgrid.azure.net' } });
    const silent = new FakeWebhook(() => ({ status: 200, headers: {}, body: '' }));
    await expect(
      validateWebhook(silent, { endpointUrl: 'https://hooks.example/ce', eventDeliverySchema: 'CloudEventSchemaV1_0', topic, name: 'h' }, NOW),
    ).rejects.toMatchObject({ status: 400, code: 'Url validation' });
  });
});

class RecordingRealizer implements SubscriptionRealizer {
  readonly realized: EventSubscription[] = [];
  readonly removed: string[] = [];
  async realize(subscription: EventSubscription) {
    this.realized.push(subscription);
  }
  async remove(subscription: { uid: string }) {
    this.removed.push(subscription.uid);
  }
}

describe('the subscription service', () => {
  const setUp = (answer: (request: WebhookRequest) => WebhookResponse = echoValidation) => {
    const store = new MemoryEventSubscriptionStore();
    const realizer = new RecordingRealizer();
    const client = new FakeWebhook(answer);
    return { store, realizer, client, service: new EventSubscriptions(store, realizer, client, () => NOW) };
  };

  it('creates after the handshake, then reads, lists, updates and deletes', async () => {
    const { service, realizer, client } = setUp();
    const { subscription, created } = await service.createOrUpdate(vault, 'Hook-1', { properties: webhook() });
    expect(created).toBe(true);
    expect(client.requests).toHaveLength(1);
    expect(realizer.realized.map((s) => s.uid)).toEqual([subscriptionUid(topic, 'hook-1')]);
    expect((await service.get(vault, 'hook-1')).name).toBe('Hook-1');
    expect((await service.list(vault)).map((s) => s.name)).toEqual(['Hook-1']);
    const updated = await service.update(vault, 'hook-1', { filter: { subjectBeginsWith: 'db-' } });
    expect(updated.filter.subjectBeginsWith).toBe('db-');
    // The endpoint did not change: no second handshake.
    expect(client.requests).toHaveLength(1);
    expect(await service.fullUrl(vault, 'hook-1')).toBe('https://hooks.example/api/updates?code=s3cret');
    expect(await service.delete(vault, 'hook-1')).toBe(true);
    expect(realizer.removed).toEqual([subscription.uid]);
    await expect(service.get(vault, 'hook-1')).rejects.toMatchObject({ status: 404, code: 'ResourceNotFound' });
    // A retried delete converges: the resources are removed again, the answer says nothing was there.
    expect(await service.delete(vault, 'hook-1')).toBe(false);
  });

  it('a failed handshake stores and realizes nothing', async () => {
    const { service, store, realizer } = setUp(() => ({ status: 500, headers: {}, body: '' }));
    await expect(service.createOrUpdate(vault, 'hook-1', { properties: webhook() })).rejects.toMatchObject({ status: 400, code: 'Url validation' });
    expect(await store.list('vault1')).toEqual([]);
    expect(realizer.realized).toEqual([]);
  });

  it('refuses a malformed name', async () => {
    const { service } = setUp();
    await expect(service.createOrUpdate(vault, 'a_b', { properties: webhook() })).rejects.toMatchObject({ status: 400, code: 'InvalidRequest' });
  });
});
