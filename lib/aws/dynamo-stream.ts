import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { type Collection, KINDS } from '../core/kinds.ts';
import type { CommittedChange } from '../events/publish.ts';
import { LIFETIME_ATTACHMENT, ROTATION_POLICY_ATTACHMENT, type ScheduleTarget } from '../events/schedule.ts';

/**
 * The objects table's stream (NEW_AND_OLD_IMAGES) read as committed changes: a version item
 * inserted is a new version; a vault item whose access policies or permission model changed is an
 * access change. Every other item (heads, deleted heads, attachments, documents, role assignments)
 * says nothing an event tells. The item layout is lib/aws/dynamo/layout.ts's.
 */
export interface StreamChange {
  /** The stream record's sequence number: what a partial batch failure names. */
  sequenceNumber: string;
  change: CommittedChange;
}

const VERSION_ID = /^[0-9a-f]{32}$/;

export function changesOf(records: readonly DynamoDBRecord[]): StreamChange[] {
  const changes: StreamChange[] = [];
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (!sequenceNumber) continue;
    const change = changeOf(record);
    if (change) changes.push({ sequenceNumber, change });
  }
  return changes;
}

function changeOf(record: DynamoDBRecord): CommittedChange | undefined {
  const keys = record.dynamodb?.Keys;
  const pk = keys?.pk?.S;
  const sk = keys?.sk?.S;
  if (!pk || !sk) return undefined;
  if (record.eventName === 'INSERT' && VERSION_ID.test(sk)) {
    const [vault, collection, name, ...rest] = pk.split('#');
    if (!vault || !name || rest.length > 0 || !isCollection(collection)) return undefined;
    const item = imageOf(record.dynamodb?.NewImage);
    const attributes = item.attributes as { nbf?: number; exp?: number; created?: number } | undefined;
    return {
      type: 'versionAdded',
      vault,
      collection,
      name: typeof item.name === 'string' ? item.name : name,
      version: sk,
      ...(attributes?.nbf !== undefined ? { nbf: attributes.nbf } : {}),
      ...(attributes?.exp !== undefined ? { exp: attributes.exp } : {}),
      created: attributes?.created ?? Math.floor(record.dynamodb?.ApproximateCreationDateTime ?? Date.now() / 1000),
    };
  }
  if (record.eventName === 'MODIFY' && pk.startsWith('VAULT#') && sk === 'VAULT') {
    const before = imageOf(record.dynamodb?.OldImage);
    const after = imageOf(record.dynamodb?.NewImage);
    const changed =
      JSON.stringify(before.accessPolicies ?? []) !== JSON.stringify(after.accessPolicies ?? []) ||
      Boolean(before.enableRbacAuthorization) !== Boolean(after.enableRbacAuthorization);
    if (!changed || typeof after.name !== 'string') return undefined;
    return {
      type: 'vaultAccessChanged',
      vault: after.name,
      revision: typeof after.revision === 'number' ? after.revision : 0,
      time: Math.floor(record.dynamodb?.ApproximateCreationDateTime ?? Date.now() / 1000),
    };
  }
  return undefined;
}

function isCollection(value: string | undefined): value is Collection {
  return value !== undefined && Object.hasOwn(KINDS, value);
}

/** The image's plain values; binary attributes (sealed content) are left out: no event carries them. */
function imageOf(image: Record<string, AttributeValue> | undefined): Record<string, unknown> {
  if (!image) return {};
  const withoutBinary = Object.fromEntries(Object.entries(image).filter(([, value]) => value.B === undefined && value.BS === undefined));
  return unmarshall(withoutBinary as Parameters<typeof unmarshall>[0]);
}

/** A record that asks the schedule to look at an object or a vault again (lib/events/schedule.ts). */
export interface StreamScheduleTarget {
  sequenceNumber: string;
  target: ScheduleTarget;
}

const ATTACHMENTS_SCHEDULED: Partial<Record<Collection, string>> = { keys: ROTATION_POLICY_ATTACHMENT, certificates: LIFETIME_ATTACHMENT };

/**
 * The records that change what falls due: an object's head (written with every new version, copy of
 * the latest version's dates, so a version inserted or its exp changed shows here too; only the
 * current version has due work), its deleted head inserted or removed (deleted, recovered, purged),
 * a key's rotation policy or a certificate's lifetime action written, and a vault record changed
 * (soft-deleted, recovered, purged). Inserts, changes and removals alike: the schedule is read again
 * from the state the change left.
 */
export function scheduleTargetsOf(records: readonly DynamoDBRecord[]): StreamScheduleTarget[] {
  const targets: StreamScheduleTarget[] = [];
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const target = sequenceNumber ? scheduleTargetOf(record) : undefined;
    if (sequenceNumber && target) targets.push({ sequenceNumber, target });
  }
  return targets;
}

function scheduleTargetOf(record: DynamoDBRecord): ScheduleTarget | undefined {
  const pk = record.dynamodb?.Keys?.pk?.S;
  const sk = record.dynamodb?.Keys?.sk?.S;
  if (!pk || !sk) return undefined;
  if (pk.startsWith('VAULT#') && sk === 'VAULT') {
    const image = imageOf(record.dynamodb?.NewImage ?? record.dynamodb?.OldImage);
    return { type: 'vault', vault: typeof image.name === 'string' ? image.name : pk.slice('VAULT#'.length) };
  }
  const [vault, part, name, ...rest] = pk.split('#');
  if (!vault || !part || rest.length > 0) return undefined;
  if (name === undefined) {
    // A head (`<vault>#<collection>`) or a deleted head (`<vault>#deleted<collection>`), named by its sort key.
    const collection = part.startsWith('deleted') ? part.slice('deleted'.length) : part;
    return isCollection(collection) ? { type: 'object', vault, collection, name: sk } : undefined;
  }
  const collection = part.endsWith('-attachments') ? part.slice(0, -'-attachments'.length) : undefined;
  if (!isCollection(collection) || ATTACHMENTS_SCHEDULED[collection] !== sk) return undefined;
  return { type: 'object', vault, collection, name };
}
