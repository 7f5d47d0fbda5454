import { type EventGridEvent, KEY_VAULT_EVENT_SOURCE, type ObjectEventData } from '../events/events.ts';
import type { PostgresPasswordRotator, RotationRequest, RotationResult } from './rotation.ts';

/**
 * What starts a rotation: Key Vault's SecretNearExpiry (Event Grid schema, lib/events/events.ts), as
 * an Event Grid webhook receives it (an array, after the validation handshake) or as an EventBridge
 * rule hands it to a Lambda target (the whole EventBridge event, whose `detail` is the Event Grid
 * event, or the detail alone with InputPath `$.detail`), or a request on demand.
 *
 * The rotator works on one vault, its configured URL: an event about an object of any other vault is
 * refused, so a forged event cannot send the rotator's token to a host of its choosing.
 */
const NEAR_EXPIRY: EventGridEvent['eventType'] = 'Microsoft.KeyVault.SecretNearExpiry';

export type Trigger = { kind: 'event'; eventId: string; request: RotationRequest } | { kind: 'ignored'; eventId: string; reason: string };

class BadTrigger extends Error {
  override name = 'BadTrigger';
}

/** The Event Grid event in an EventBridge event, or the event itself. */
export function eventGridEventOf(input: unknown): unknown {
  if (isRecord(input) && input.source === KEY_VAULT_EVENT_SOURCE && isRecord(input.detail)) return input.detail;
  return input;
}

/** An Event Grid event as the rotation it asks for; other event types and other objects are ignored, other vaults refused. */
export function triggerOf(event: unknown, vaultUrl: string): Trigger {
  if (!isRecord(event) || typeof event.id !== 'string' || typeof event.eventType !== 'string' || !isRecord(event.data)) {
    throw new BadTrigger('not an Event Grid event: id, eventType and data are required');
  }
  const eventId = event.id;
  if (event.eventType.toLowerCase() !== NEAR_EXPIRY.toLowerCase()) return { kind: 'ignored', eventId, reason: `event type ${event.eventType}` };
  const data = event.data as Partial<ObjectEventData>;
  if (data.ObjectType !== 'Secret' || typeof data.ObjectName !== 'string' || typeof data.Version !== 'string' || typeof data.Id !== 'string') {
    throw new BadTrigger('a SecretNearExpiry event needs data.Id, data.ObjectType Secret, data.ObjectName and data.Version');
  }
  if (!sameVault(data.Id, vaultUrl))
    throw new BadTrigger(`the event is about ${originOf(data.Id) ?? 'an object'} of another vault than ${originOf(vaultUrl)}`);
  const at = typeof event.eventTime === 'string' ? Date.parse(event.eventTime) : Number.NaN;
  return {
    kind: 'event',
    eventId,
    request: { secretName: data.ObjectName, expectedVersion: data.Version, ...(Number.isFinite(at) ? { at: Math.floor(at / 1000) } : {}) },
  };
}

export function onDemandRequest(input: unknown): RotationRequest | undefined {
  if (isRecord(input) && typeof input.secretName === 'string' && !('eventType' in input) && !('detail' in input))
    return { secretName: input.secretName };
  return undefined;
}

/** Rotates for each trigger in turn; a failure fails the delivery (so Event Grid or Lambda retries it) after the others ran. */
export async function rotateAll(rotator: PostgresPasswordRotator, triggers: Trigger[]): Promise<RotationResult[]> {
  const results: RotationResult[] = [];
  let failure: unknown;
  for (const trigger of triggers) {
    if (trigger.kind === 'ignored') continue;
    try {
      results.push(await rotator.rotate(trigger.request));
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return results;
}

export interface WebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
}

/**
 * Event Grid's webhook contract: a SubscriptionValidation delivery (`aeg-event-type:
 * SubscriptionValidation`) is answered with its validationCode; a Notification is an array of events,
 * answered 200 once every rotation it asks for is done, 500 when one failed (Event Grid retries), 400
 * for what is not an event of this vault (not retried).
 */
export async function handleWebhook(request: WebhookRequest, rotator: PostgresPasswordRotator, vaultUrl: string): Promise<WebhookResponse> {
  if (request.method !== 'POST') return { status: 405, body: { error: 'POST only' } };
  let events: unknown;
  try {
    events = JSON.parse(request.body);
  } catch {
    return { status: 400, body: { error: 'the body is not JSON' } };
  }
  if (!Array.isArray(events)) return { status: 400, body: { error: 'an Event Grid delivery is an array of events' } };
  const type = header(request.headers, 'aeg-event-type');
  if (type?.toLowerCase() === 'subscriptionvalidation') {
    const code = events[0]?.data?.validationCode;
    if (typeof code !== 'string') return { status: 400, body: { error: 'a validation event carries data.validationCode' } };
    return { status: 200, body: { validationResponse: code } };
  }
  let triggers: Trigger[];
  try {
    triggers = events.map((event) => triggerOf(event, vaultUrl));
  } catch (error) {
    if (error instanceof BadTrigger) return { status: 400, body: { error: error.message } };
    throw error;
  }
  try {
    const results = await rotateAll(rotator, triggers);
    return { status: 200, body: { results: results.map(summary) } };
  } catch (error) {
    return { status: 500, body: { error: error instanceof Error ? error.message : 'rotation failed' } };
  }
}

export function summary(result: RotationResult): Record<string, string> {
  return result.outcome === 'rotated'
    ? { outcome: result.outcome, secretName: result.secretName, version: result.version, expiresOn: result.expiresOn.toISOString() }
    : { outcome: result.outcome, secretName: result.secretName, currentVersion: result.currentVersion };
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function sameVault(objectId: string, vaultUrl: string): boolean {
  const object = originOf(objectId);
  return object !== undefined && object === originOf(vaultUrl);
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
