import { createHash, randomUUID } from 'node:crypto';
import { NotFound, VaultError } from '../core/errors.ts';
import { KEY_VAULT_EVENT_SOURCE, KEY_VAULT_EVENT_TYPES, type KeyVaultEventType } from './events.ts';

/**
 * Event Grid event subscriptions on a vault (Microsoft.EventGrid/eventSubscriptions at the vault's
 * resource id, api-version 2022-06-15 as @azure/arm-eventgrid 14 sends it): the request shapes and
 * their checks, the answer shapes, and what a subscription becomes on the deployment's EventBridge bus
 * (a rule whose pattern is the filter, an API destination target whose input transformer writes the
 * event in the subscription's schema). Nothing here knows AWS: the realization, the store and the
 * webhook's HTTP client are ports (lib/aws/eventbridge-subscriptions.ts, lib/events/webhook-client.ts).
 */
export const EVENT_SUBSCRIPTION_TYPE = 'Microsoft.EventGrid/eventSubscriptions';

export type EventDeliverySchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';
const DELIVERY_SCHEMAS: readonly EventDeliverySchema[] = ['EventGridSchema', 'CloudEventSchemaV1_0'];

/** Event Grid's defaults (reference: EventSubscription.retryPolicy). */
const DEFAULT_MAX_DELIVERY_ATTEMPTS = 30;
const DEFAULT_EVENT_TTL_MINUTES = 1440;

/** Event Grid's refusal of a malformed request: 400 InvalidRequest. */
class InvalidEventSubscription extends VaultError {
  constructor(message: string) {
    super(400, 'InvalidRequest', message);
  }
}

/** The webhook did not complete Event Grid's validation handshake: Azure's 400 `Url validation`. */
class WebhookValidationFailed extends VaultError {
  constructor(endpointBaseUrl: string, reason: string) {
    super(
      400,
      'Url validation',
      `Webhook validation handshake failed for ${endpointBaseUrl}. ${reason} For troubleshooting, visit https://aka.ms/esvalidation.`,
    );
  }
}

export interface SubscriptionFilter {
  /** Canonical Key Vault event types; absent means every type. */
  includedEventTypes?: KeyVaultEventType[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  isSubjectCaseSensitive: boolean;
}

/** What a subscription asks for, checked. */
export interface SubscriptionSettings {
  /** The full webhook URL, query and all: only getFullUrl answers it (Azure hides the query, which often carries a key). */
  endpointUrl: string;
  filter: SubscriptionFilter;
  eventDeliverySchema: EventDeliverySchema;
  retryPolicy: { maxDeliveryAttempts: number; eventTimeToLiveInMinutes: number };
  labels: string[];
  expirationTimeUtc?: string;
}

/** A stored subscription: its settings, where it is, and the id its AWS resources are named from. */
export interface EventSubscription extends SubscriptionSettings {
  /** The vault's name (the store's partition) and ARM id (the subscription's topic). */
  vault: string;
  topic: string;
  /** As the client wrote it; names are case-insensitive. */
  name: string;
  /** Derived from the topic and the name: the same subscription always has the same AWS resource names. */
  uid: string;
  createdAt: string;
  updatedAt: string;
}

/** Where subscriptions are kept: the objects table, in the vault's own partition (lib/aws/dynamo-event-subscriptions.ts). */
export interface EventSubscriptionStore {
  get(vault: string, name: string): Promise<EventSubscription | undefined>;
  list(vault: string): Promise<EventSubscription[]>;
  put(subscription: EventSubscription): Promise<void>;
  delete(vault: string, name: string): Promise<void>;
}

/** What makes a subscription deliver: in AWS a rule, a connection and an API destination on the deployment's bus. Both idempotent. */
export interface SubscriptionRealizer {
  realize(subscription: EventSubscription): Promise<void>;
  remove(subscription: Pick<EventSubscription, 'uid'>): Promise<void>;
}

/** One HTTP exchange with a webhook (lib/events/webhook-client.ts enforces the address policy). */
export interface WebhookRequest {
  method: 'POST' | 'OPTIONS';
  headers: Record<string, string>;
  body?: string;
}

export interface WebhookResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface WebhookClient {
  send(url: string, request: WebhookRequest): Promise<WebhookResponse>;
}

// ---------------------------------------------------------------------------------------------------
// Request checks

const NAME = /^[A-Za-z0-9-]{3,64}$/;

function checkSubscriptionName(name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidEventSubscription(
      'Event subscription name must be between 3 and 64 characters in length and use alphanumeric letters and hyphens only.',
    );
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(value: unknown, where: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidEventSubscription(`The attribute '${where}' must be an object.`);
  return value;
}

function optionalString(value: unknown, where: string, max = 1024): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidEventSubscription(`The attribute '${where}' must be a string.`);
  if (value.length > max) throw new InvalidEventSubscription(`The attribute '${where}' must be at most ${max} characters long.`);
  return value;
}

function optionalInteger(value: unknown, where: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidEventSubscription(`The attribute '${where}' has an invalid value. It must be an integer between ${min} and ${max}.`);
  }
  return value;
}

const EVENT_TYPES_BY_LOWER = new Map<string, KeyVaultEventType>(KEY_VAULT_EVENT_TYPES.map((type) => [type.toLowerCase(), type]));

function checkedEventTypes(value: unknown): KeyVaultEventType[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidEventSubscription("The attribute 'filter.includedEventTypes' must be an array of strings.");
  const types: KeyVaultEventType[] = [];
  for (const entry of value) {
    const type = typeof entry === 'string' ? EVENT_TYPES_BY_LOWER.get(entry.toLowerCase()) : undefined;
    if (!type) {
      const shown = typeof entry === 'string' ? entry.slice(0, 128) : typeof entry;
      throw new InvalidEventSubscription(
        `Invalid event type '${shown}' in 'filter.includedEventTypes'. The event types of topic type Microsoft.KeyVault.vaults are: ${KEY_VAULT_EVENT_TYPES.join(', ')}.`,
      );
    }
    if (!types.includes(type)) types.push(type);
  }
  // An empty list means every type, as in Event Grid.
  return types.length > 0 ? types : undefined;
}

function checkedFilter(value: unknown, previous?: SubscriptionFilter): SubscriptionFilter {
  const filter = optionalObject(value, 'filter');
  if (!filter) return previous ?? { isSubjectCaseSensitive: false };
  for (const unsupported of ['advancedFilters', 'enableAdvancedFilteringOnArrays']) {
    const given = filter[unsupported];
    if (given !== undefined && given !== null && given !== false && !(Array.isArray(given) && given.length === 0)) {
      throw new InvalidEventSubscription(`The attribute 'filter.${unsupported}' is not supported by Coffer's event subscriptions.`);
    }
  }
  const caseSensitive = filter.isSubjectCaseSensitive;
  if (caseSensitive !== undefined && caseSensitive !== null && typeof caseSensitive !== 'boolean') {
    throw new InvalidEventSubscription("The attribute 'filter.isSubjectCaseSensitive' must be a boolean.");
  }
  const includedEventTypes = checkedEventTypes(filter.includedEventTypes);
  const subjectBeginsWith = optionalString(filter.subjectBeginsWith, 'filter.subjectBeginsWith') || undefined;
  const subjectEndsWith = optionalString(filter.subjectEndsWith, 'filter.subjectEndsWith') || undefined;
  return {
    ...(includedEventTypes ? { includedEventTypes } : {}),
    ...(subjectBeginsWith ? { subjectBeginsWith } : {}),
    ...(subjectEndsWith ? { subjectEndsWith } : {}),
    isSubjectCaseSensitive: caseSensitive === true,
  };
}

function checkedEndpointUrl(destination: Json | undefined, previous?: string): string {
  if (!destination) {
    if (previous) return previous;
    throw new InvalidEventSubscription("The attribute 'destination' is required.");
  }
  if (destination.endpointType !== 'WebHook') {
    throw new InvalidEventSubscription(
      `The attribute 'destination.endpointType' has an unsupported value${typeof destination.endpointType === 'string' ? ` '${destination.endpointType.slice(0, 64)}'` : ''}. Coffer's event subscriptions deliver to WebHook destinations only.`,
    );
  }
  const properties = optionalObject(destination.properties, 'destination.properties');
  const url = optionalString(properties?.endpointUrl, 'destination.properties.endpointUrl', 2048);
  if (!url) {
    if (previous) return previous;
    throw new InvalidEventSubscription("The attribute 'destination.properties.endpointUrl' is required for a WebHook destination.");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidEventSubscription("The attribute 'destination.properties.endpointUrl' is not a valid absolute URL.");
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidEventSubscription("The attribute 'destination.properties.endpointUrl' must be an http or https URL.");
  }
  if (parsed.username || parsed.password) {
    throw new InvalidEventSubscription("The attribute 'destination.properties.endpointUrl' must not carry user information.");
  }
  if (parsed.hash) throw new InvalidEventSubscription("The attribute 'destination.properties.endpointUrl' must not have a fragment.");
  return parsed.href;
}

function checkedExpiration(value: unknown, now: number): string | undefined {
  const text = optionalString(value, 'expirationTimeUtc', 64);
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new InvalidEventSubscription("The attribute 'expirationTimeUtc' is not a valid date and time.");
  if (time <= now) throw new InvalidEventSubscription("The attribute 'expirationTimeUtc' must be in the future.");
  return new Date(time).toISOString();
}

function checkedLabels(value: unknown, previous?: string[]): string[] {
  if (value === undefined || value === null) return previous ?? [];
  if (!Array.isArray(value) || value.some((label) => typeof label !== 'string')) {
    throw new InvalidEventSubscription("The attribute 'labels' must be an array of strings.");
  }
  if (value.length > 64) throw new InvalidEventSubscription("The attribute 'labels' may have at most 64 entries.");
  return [...(value as string[])];
}

function checkedRetryPolicy(value: unknown, previous?: SubscriptionSettings['retryPolicy']): SubscriptionSettings['retryPolicy'] {
  const policy = optionalObject(value, 'retryPolicy');
  return {
    maxDeliveryAttempts:
      optionalInteger(policy?.maxDeliveryAttempts, 'retryPolicy.maxDeliveryAttempts', 1, 30) ??
      previous?.maxDeliveryAttempts ??
      DEFAULT_MAX_DELIVERY_ATTEMPTS,
    eventTimeToLiveInMinutes:
      optionalInteger(policy?.eventTimeToLiveInMinutes, 'retryPolicy.eventTimeToLiveInMinutes', 1, 1440) ??
      previous?.eventTimeToLiveInMinutes ??
      DEFAULT_EVENT_TTL_MINUTES,
  };
}

function checkedSchema(value: unknown, previous?: EventDeliverySchema): EventDeliverySchema {
  if (value === undefined || value === null) return previous ?? 'EventGridSchema';
  if (typeof value !== 'string' || !DELIVERY_SCHEMAS.includes(value as EventDeliverySchema)) {
    throw new InvalidEventSubscription(
      `The attribute 'eventDeliverySchema' has an unsupported value. Supported values are: ${DELIVERY_SCHEMAS.join(', ')}.`,
    );
  }
  // Event Grid does not change a subscription's schema once it exists.
  if (previous && value !== previous)
    throw new InvalidEventSubscription("The attribute 'eventDeliverySchema' cannot be changed on an existing event subscription.");
  return value as EventDeliverySchema;
}

function refuseDeadLetter(value: unknown): void {
  if (value !== undefined && value !== null) {
    throw new InvalidEventSubscription(
      "The attribute 'deadLetterDestination' is not supported: undeliverable events go to the deployment's dead-letter queue.",
    );
  }
}

/**
 * A PUT's body (`{properties: {...}}`, EventSubscription) as settings. A PUT on an existing
 * subscription replaces it whole, as ARM's PUT does, except its delivery schema, which cannot change.
 */
export function settingsFromPut(body: unknown, now: number, existing?: SubscriptionSettings): SubscriptionSettings {
  if (!isObject(body)) throw new InvalidEventSubscription('The request body must be a JSON object.');
  const properties = optionalObject(body.properties, 'properties') ?? {};
  refuseDeadLetter(properties.deadLetterDestination);
  const expirationTimeUtc = checkedExpiration(properties.expirationTimeUtc, now);
  return {
    endpointUrl: checkedEndpointUrl(optionalObject(properties.destination, 'destination')),
    filter: checkedFilter(properties.filter),
    eventDeliverySchema: checkedSchema(properties.eventDeliverySchema, existing?.eventDeliverySchema),
    retryPolicy: checkedRetryPolicy(properties.retryPolicy),
    labels: checkedLabels(properties.labels),
    ...(expirationTimeUtc ? { expirationTimeUtc } : {}),
  };
}

/** A PATCH's body (EventSubscriptionUpdateParameters: the same fields, not wrapped in `properties`) over the existing settings. */
export function settingsFromPatch(body: unknown, now: number, existing: SubscriptionSettings): SubscriptionSettings {
  if (!isObject(body)) throw new InvalidEventSubscription('The request body must be a JSON object.');
  refuseDeadLetter(body.deadLetterDestination);
  const expirationTimeUtc = body.expirationTimeUtc === undefined ? existing.expirationTimeUtc : checkedExpiration(body.expirationTimeUtc, now);
  return {
    endpointUrl: checkedEndpointUrl(optionalObject(body.destination, 'destination'), existing.endpointUrl),
    filter: checkedFilter(body.filter, existing.filter),
    eventDeliverySchema: checkedSchema(body.eventDeliverySchema, existing.eventDeliverySchema),
    retryPolicy: checkedRetryPolicy(body.retryPolicy, existing.retryPolicy),
    labels: checkedLabels(body.labels, existing.labels),
    ...(expirationTimeUtc ? { expirationTimeUtc } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Answers

/** The webhook's URL without its query: what Azure answers as `endpointBaseUrl`. */
export function endpointBaseUrl(endpointUrl: string): string {
  const url = new URL(endpointUrl);
  return `${url.origin}${url.pathname}`;
}

/** 20 hex characters of a hash of the topic and the name (both case-insensitive). */
export function subscriptionUid(topic: string, name: string): string {
  return createHash('sha256').update(`${topic.toLowerCase()}\u0000${name.toLowerCase()}`).digest('hex').slice(0, 20);
}

// ---------------------------------------------------------------------------------------------------
// EventBridge

/**
 * The rule pattern for a subscription: Coffer's events about this vault (the entry's `resources` is
 * the vault's ARM id), of the included types, with the subject's prefix and suffix. EventBridge ORs
 * the matchers of one field, so the suffix is matched on `data.ObjectName`, which every Key Vault event
 * carries equal to its subject (the object's name; the vault's name for VaultAccessPolicyChanged).
 */
export function rulePattern(subscription: Pick<EventSubscription, 'topic' | 'filter'>): Json {
  const { filter } = subscription;
  const text = (kind: 'prefix' | 'suffix', value: string) =>
    filter.isSubjectCaseSensitive ? [{ [kind]: value }] : [{ [kind]: { 'equals-ignore-case': value } }];
  const detail: Json = {
    ...(filter.subjectBeginsWith ? { subject: text('prefix', filter.subjectBeginsWith) } : {}),
    ...(filter.subjectEndsWith ? { data: { ObjectName: text('suffix', filter.subjectEndsWith) } } : {}),
  };
  return {
    source: [KEY_VAULT_EVENT_SOURCE],
    resources: [subscription.topic],
    ...(filter.includedEventTypes ? { 'detail-type': filter.includedEventTypes } : {}),
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
}

/** The target's input transformer: Event Grid's array of one event, or one CloudEvent (structured mode). */
export function inputTransformer(schema: EventDeliverySchema): { InputPathsMap: Record<string, string>; InputTemplate: string } {
  if (schema === 'EventGridSchema') return { InputPathsMap: { detail: '$.detail' }, InputTemplate: '[<detail>]' };
  return {
    InputPathsMap: {
      id: '$.detail.id',
      source: '$.detail.topic',
      subject: '$.detail.subject',
      type: '$.detail.eventType',
      time: '$.detail.eventTime',
      data: '$.detail.data',
    },
    InputTemplate:
      '{"specversion":"1.0","id":<id>,"source":<source>,"subject":<subject>,"type":<type>,"time":<time>,"datacontenttype":"application/json","data":<data>}',
  };
}

/** The headers Event Grid sends with each delivery, and the CloudEvents content type. */
export function deliveryHeaders(subscription: Pick<EventSubscription, 'name' | 'eventDeliverySchema'>): Record<string, string> {
  return {
    'aeg-event-type': 'Notification',
    'aeg-subscription-name': subscription.name.toUpperCase(),
    'aeg-metadata-version': '1',
    'aeg-data-version': '1',
    ...(subscription.eventDeliverySchema === 'CloudEventSchemaV1_0' ? { 'content-type': 'application/cloudevents+json; charset=utf-8' } : {}),
  };
}

/** The target's retry policy: Event Grid counts the first attempt, EventBridge counts retries. */
export function retryPolicyOf(subscription: Pick<EventSubscription, 'retryPolicy'>): {
  MaximumRetryAttempts: number;
  MaximumEventAgeInSeconds: number;
} {
  return {
    MaximumRetryAttempts: subscription.retryPolicy.maxDeliveryAttempts - 1,
    MaximumEventAgeInSeconds: Math.max(60, subscription.retryPolicy.eventTimeToLiveInMinutes * 60),
  };
}

/** The webhook URL's query parameters: the connection keeps them as secrets, the API destination gets the base URL. */
export function queryParametersOf(endpointUrl: string): { Key: string; Value: string }[] {
  return [...new URL(endpointUrl).searchParams].map(([Key, Value]) => ({ Key, Value }));
}

// ---------------------------------------------------------------------------------------------------
// Validation handshake

/** The origin Event Grid names in the CloudEvents abuse-protection handshake. */
const WEBHOOK_REQUEST_ORIGIN = 'eventgrid.azure.net';

/**
 * Event Grid's validation handshake, before a subscription is created or its endpoint changes:
 * EventGridSchema POSTs a SubscriptionValidationEvent and expects `{validationResponse: <code>}`;
 * CloudEvents 1.0 sends the abuse-protection OPTIONS and expects `WebHook-Allowed-Origin`.
 * Anything else, including a redirect or an address the policy refuses, is Azure's 400.
 */
export async function validateWebhook(
  client: WebhookClient,
  subscription: Pick<EventSubscription, 'endpointUrl' | 'eventDeliverySchema' | 'topic' | 'name'>,
  now: number,
): Promise<void> {
  const base = endpointBaseUrl(subscription.endpointUrl);
  if (subscription.eventDeliverySchema === 'CloudEventSchemaV1_0') {
    const response = await exchange(client, subscription.endpointUrl, base, 'OPTIONS', {
      method: 'OPTIONS',
      headers: { 'webhook-request-origin': WEBHOOK_REQUEST_ORIGIN, 'webhook-request-rate': '120' },
    });
    const allowed = response.headers['webhook-allowed-origin']?.trim();
    if (response.status !== 200 || (allowed !== '*' && allowed?.toLowerCase() !== WEBHOOK_REQUEST_ORIGIN)) {
      throw new WebhookValidationFailed(
        base,
        `Http OPTIONS request returned ${response.status} without a WebHook-Allowed-Origin header allowing ${WEBHOOK_REQUEST_ORIGIN}.`,
      );
    }
    return;
  }
  const validationCode = randomUUID().toUpperCase();
  const event = {
    id: randomUUID(),
    topic: subscription.topic,
    subject: '',
    data: { validationCode },
    eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
    eventTime: new Date(now).toISOString(),
    metadataVersion: '1',
    dataVersion: '2',
  };
  const response = await exchange(client, subscription.endpointUrl, base, 'POST', {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'aeg-event-type': 'SubscriptionValidation',
      'aeg-subscription-name': subscription.name.toUpperCase(),
      'aeg-data-version': '2',
      'aeg-metadata-version': '1',
    },
    body: JSON.stringify([event]),
  });
  if (response.status < 200 || response.status > 299) {
    throw new WebhookValidationFailed(base, `Http POST request failed with response code ${response.status}.`);
  }
  let answered: unknown;
  try {
    answered = JSON.parse(response.body);
  } catch {
    answered = undefined;
  }
  const code = isObject(answered) ? Object.entries(answered).find(([key]) => key.toLowerCase() === 'validationresponse')?.[1] : undefined;
  if (typeof code !== 'string' || code.toUpperCase() !== validationCode) {
    throw new WebhookValidationFailed(base, 'Http POST request retuned 2XX response with invalid response.');
  }
}

async function exchange(client: WebhookClient, url: string, base: string, method: string, request: WebhookRequest): Promise<WebhookResponse> {
  try {
    return await client.send(url, request);
  } catch (error) {
    const reason = error instanceof WebhookRefused ? error.message : 'response code Unknown';
    throw new WebhookValidationFailed(base, `Http ${method} request failed with ${reason}.`);
  }
}

/** The webhook client would not (address policy, redirect) or could not (timeout, connection) complete the request. */
export class WebhookRefused extends Error {}

// ---------------------------------------------------------------------------------------------------
// The service

export interface SubscriptionVault {
  name: string;
  resourceId: string;
}

/** Create, read, change, list and delete a vault's event subscriptions. */
export class EventSubscriptions {
  constructor(
    private readonly store: EventSubscriptionStore,
    private readonly realizer: SubscriptionRealizer,
    private readonly webhooks: WebhookClient,
    private readonly now: () => number = Date.now,
  ) {}

  async get(vault: SubscriptionVault, name: string): Promise<EventSubscription> {
    checkSubscriptionName(name);
    const found = await this.store.get(vault.name, name);
    if (!found) throw notFound(name);
    return found;
  }

  list(vault: SubscriptionVault): Promise<EventSubscription[]> {
    return this.store.list(vault.name);
  }

  /** PUT: create, or replace. The handshake runs first: a webhook that fails it leaves nothing behind. */
  async createOrUpdate(vault: SubscriptionVault, name: string, body: unknown): Promise<{ subscription: EventSubscription; created: boolean }> {
    checkSubscriptionName(name);
    const existing = await this.store.get(vault.name, name);
    const settings = settingsFromPut(body, this.now(), existing);
    const subscription = await this.save(vault, name, settings, existing);
    return { subscription, created: existing === undefined };
  }

  /** PATCH: the given fields over the existing subscription. */
  async update(vault: SubscriptionVault, name: string, body: unknown): Promise<EventSubscription> {
    const existing = await this.get(vault, name);
    return this.save(vault, name, settingsFromPatch(body, this.now(), existing), existing);
  }

  /** DELETE: the AWS resources first, then the record, so a failed delete is retried from the record. */
  async delete(vault: SubscriptionVault, name: string): Promise<boolean> {
    checkSubscriptionName(name);
    const existing = await this.store.get(vault.name, name);
    await this.realizer.remove({ uid: subscriptionUid(vault.resourceId, name) });
    if (!existing) return false;
    await this.store.delete(vault.name, name);
    return true;
  }

  /** A purged vault's subscriptions stop delivering; its partition's records go with the vault. */
  async removeAll(vault: string): Promise<void> {
    for (const subscription of await this.store.list(vault)) await this.realizer.remove(subscription);
  }

  async fullUrl(vault: SubscriptionVault, name: string): Promise<string> {
    return (await this.get(vault, name)).endpointUrl;
  }

  private async save(
    vault: SubscriptionVault,
    name: string,
    settings: SubscriptionSettings,
    existing?: EventSubscription,
  ): Promise<EventSubscription> {
    const now = new Date(this.now()).toISOString();
    const subscription: EventSubscription = {
      ...settings,
      vault: vault.name,
      topic: vault.resourceId,
      name: existing?.name ?? name,
      uid: subscriptionUid(vault.resourceId, name),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    // Event Grid validates a new endpoint only: an unchanged one was validated when it was set.
    if (!existing || existing.endpointUrl !== subscription.endpointUrl || existing.eventDeliverySchema !== subscription.eventDeliverySchema) {
      await validateWebhook(this.webhooks, subscription, this.now());
    }
    await this.realizer.realize(subscription);
    await this.store.put(subscription);
    return subscription;
  }
}

function notFound(name: string): NotFound {
  return new NotFound('ResourceNotFound', `The Resource 'Microsoft.EventGrid/eventSubscriptions/${name}' under the vault was not found.`);
}
