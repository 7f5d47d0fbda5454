import { createHash } from 'node:crypto';
import { objectId } from '../core/ids.ts';
import { type Collection, KINDS } from '../core/kinds.ts';

/**
 * Key Vault's events (reference §7) as Event Grid delivers them, built from committed state: a
 * version that was written, a date that passed, a vault whose access changed. Each event's id is a
 * function of what it tells (the vault, the type, the object, its version and the date it is about),
 * so the at-least-once delivery of one change always carries one id and consumers de-duplicate on it.
 */
export const KEY_VAULT_EVENT_TYPES = [
  'Microsoft.KeyVault.SecretNewVersionCreated',
  'Microsoft.KeyVault.SecretNearExpiry',
  'Microsoft.KeyVault.SecretExpired',
  'Microsoft.KeyVault.KeyNewVersionCreated',
  'Microsoft.KeyVault.KeyNearExpiry',
  'Microsoft.KeyVault.KeyExpired',
  'Microsoft.KeyVault.CertificateNewVersionCreated',
  'Microsoft.KeyVault.CertificateNearExpiry',
  'Microsoft.KeyVault.CertificateExpired',
  'Microsoft.KeyVault.VaultAccessPolicyChanged',
] as const;

export type KeyVaultEventType = (typeof KEY_VAULT_EVENT_TYPES)[number];

/**
 * The `source` Key Vault's events carry on the EventBridge bus: what the publisher writes, and what
 * every rule on the bus (event subscriptions, the rotator's, a user's own) matches them by.
 */
export const KEY_VAULT_EVENT_SOURCE = 'coffer.keyvault';

/** What happened to an object: a new version, its expiry coming (30 days before), its expiry. */
export type ObjectMoment = 'NewVersionCreated' | 'NearExpiry' | 'Expired';

/** NearExpiry fires this long before `exp` (reference §7). */
export const NEAR_EXPIRY_SECONDS = 30 * 86_400;

/** The vault an event is about: its ARM id is the topic, its URL builds the object ids. */
export interface EventVault {
  name: string;
  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}` */
  resourceId: string;
  /** The vault's canonical URL, without a trailing slash. */
  baseUrl: string;
}

export interface ObjectEventSource {
  vault: EventVault;
  collection: Collection;
  name: string;
  version: string;
  nbf?: number;
  exp?: number;
}

/** The data of an object event, PascalCase as Key Vault sends it. */
export interface ObjectEventData {
  Id: string;
  VaultName: string;
  ObjectType: 'Secret' | 'Key' | 'Certificate';
  ObjectName: string;
  Version: string;
  NBF?: number;
  EXP?: number;
}

export interface VaultEventData {
  Id: string;
  VaultName: string;
  ObjectType: 'Vault';
  ObjectName: string;
}

export interface EventGridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: KeyVaultEventType;
  /** ISO 8601, UTC. */
  eventTime: string;
  data: ObjectEventData | VaultEventData;
  dataVersion: '1';
  metadataVersion: '1';
}

/** CloudEvents 1.0 (JSON format), the schema a subscription may ask for instead. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  subject: string;
  type: KeyVaultEventType;
  time: string;
  datacontenttype: 'application/json';
  data: ObjectEventData | VaultEventData;
}

/** An object's event. `eventTime` is when it happened (the write, or the date that passed), Unix seconds. */
export function objectEvent(moment: ObjectMoment, source: ObjectEventSource, eventTime: number): EventGridEvent {
  const kind = KINDS[source.collection].kind;
  const eventType = `Microsoft.KeyVault.${kind}${moment}` as KeyVaultEventType;
  // A date event is about the expiry it announces: a version whose exp moves gets a new one.
  const about = moment === 'NewVersionCreated' ? '' : String(source.exp ?? '');
  return {
    id: stableId(source.vault.resourceId, eventType, source.name.toLowerCase(), source.version, about),
    topic: source.vault.resourceId,
    subject: source.name,
    eventType,
    eventTime: new Date(eventTime * 1000).toISOString(),
    data: {
      Id: objectId(source.vault.baseUrl, source.collection, source.name, source.version),
      VaultName: source.vault.name,
      ObjectType: kind,
      ObjectName: source.name,
      Version: source.version,
      ...(source.nbf !== undefined ? { NBF: source.nbf } : {}),
      ...(source.exp !== undefined ? { EXP: source.exp } : {}),
    },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

/**
 * The vault's access changed (its access policies, or its permission model to or from RBAC).
 * `revision` is the vault record's revision after the change: one event per committed change.
 */
export function accessPolicyChangedEvent(vault: EventVault, revision: number, eventTime: number): EventGridEvent {
  const eventType: KeyVaultEventType = 'Microsoft.KeyVault.VaultAccessPolicyChanged';
  return {
    id: stableId(vault.resourceId, eventType, String(revision)),
    topic: vault.resourceId,
    subject: vault.name,
    eventType,
    eventTime: new Date(eventTime * 1000).toISOString(),
    data: { Id: `${vault.baseUrl}/`, VaultName: vault.name, ObjectType: 'Vault', ObjectName: vault.name },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

export function toCloudEvent(event: EventGridEvent): CloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source: event.topic,
    subject: event.subject,
    type: event.eventType,
    time: event.eventTime,
    datacontenttype: 'application/json',
    data: event.data,
  };
}

/** When an object's date events fall due: NearExpiry 30 days before `exp` (not before the version exists), Expired at `exp`. */
export function dateEventsDue(exp: number | undefined, created: number): { moment: ObjectMoment; due: number }[] {
  if (exp === undefined) return [];
  return [
    { moment: 'NearExpiry', due: Math.max(exp - NEAR_EXPIRY_SECONDS, created) },
    { moment: 'Expired', due: exp },
  ];
}

/** An Event Grid subscription's filter (includedEventTypes, subjectBeginsWith/EndsWith). */
export interface EventFilter {
  includedEventTypes?: readonly string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  isSubjectCaseSensitive?: boolean;
}

export function eventMatches(filter: EventFilter, event: Pick<EventGridEvent, 'eventType' | 'subject'>): boolean {
  if (filter.includedEventTypes?.length && !filter.includedEventTypes.some((type) => type.toLowerCase() === event.eventType.toLowerCase())) {
    return false;
  }
  const fold = (text: string) => (filter.isSubjectCaseSensitive ? text : text.toLowerCase());
  const subject = fold(event.subject);
  if (filter.subjectBeginsWith && !subject.startsWith(fold(filter.subjectBeginsWith))) return false;
  if (filter.subjectEndsWith && !subject.endsWith(fold(filter.subjectEndsWith))) return false;
  return true;
}

/** A UUID (version 8, RFC 9562's custom layout) from a SHA-256 of the parts: the same parts, the same id. */
function stableId(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
