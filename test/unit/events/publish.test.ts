/**
 * From the objects table's stream to published events: which records are changes, the events they
 * make, and what a publisher's failure does (the records are handed back, the same ids next time).
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { changesOf } from '../../../lib/aws/dynamo-stream.ts';
import type { EventGridEvent } from '../../../lib/events/events.ts';
import { type CommittedChange, EventEmitter, type EventPublisher } from '../../../lib/events/publish.ts';
import { testVault } from '../../support/domain.ts';

const version = 'a'.repeat(32);
let sequence = 100;

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', keys: { pk: string; sk: string }, newImage?: object, oldImage?: object): DynamoDBRecord {
  sequence += 1;
  return {
    eventName,
    dynamodb: {
      Keys: marshall(keys) as never,
      ...(newImage ? { NewImage: marshall({ ...keys, ...newImage }, { removeUndefinedValues: true }) as never } : {}),
      ...(oldImage ? { OldImage: marshall({ ...keys, ...oldImage }, { removeUndefinedValues: true }) as never } : {}),
      SequenceNumber: String(sequence),
      ApproximateCreationDateTime: 1_700_000_500,
    },
  };
}

const versionImage = {
  name: 'Db-Password',
  version,
  attributes: { enabled: true, nbf: 1_700_000_000, exp: 1_800_000_000, created: 1_700_000_100, updated: 1_700_000_100 },
  meta: new Uint8Array([1, 2]),
};

describe('the objects table stream', () => {
  it('reads version inserts and vault access changes, and nothing else', () => {
    const vaultItem = { name: 'evvault', revision: 4, enableRbacAuthorization: true, accessPolicies: [] };
    const changes = changesOf([
      record('INSERT', { pk: 'evvault#secrets#db-password', sk: version }, versionImage),
      record('MODIFY', { pk: 'evvault#secrets', sk: 'db-password' }, { name: 'Db-Password' }, { name: 'Db-Password' }),
      record('INSERT', { pk: 'evvault#certificates-attachments#web', sk: 'policy' }, { document: {} }),
      record('INSERT', { pk: 'evvault#deletedsecrets', sk: 'db-password' }, { name: 'x' }),
      record('REMOVE', { pk: 'evvault#keys#k', sk: version }, undefined, versionImage),
      record('MODIFY', { pk: 'VAULT#evvault', sk: 'VAULT' }, { ...vaultItem, enableRbacAuthorization: false }, vaultItem),
      record('MODIFY', { pk: 'VAULT#evvault', sk: 'VAULT' }, { ...vaultItem, tags: { a: 'b' } }, vaultItem),
    ]);
    expect(changes.map((c) => c.change)).toEqual([
      {
        type: 'versionAdded',
        vault: 'evvault',
        collection: 'secrets',
        name: 'Db-Password',
        version,
        nbf: 1_700_000_000,
        exp: 1_800_000_000,
        created: 1_700_000_100,
      },
      { type: 'vaultAccessChanged', vault: 'evvault', revision: 4, time: 1_700_000_500 },
    ]);
  });
});

class FlakyPublisher implements EventPublisher {
  readonly published: EventGridEvent[] = [];
  failNext = 0;

  async publish(events: EventGridEvent[]): Promise<{ failed: EventGridEvent[] }> {
    const failed = events.slice(0, this.failNext);
    this.failNext = 0;
    this.published.push(...events.slice(failed.length));
    return { failed };
  }
}

describe('the event emitter', () => {
  const vault = testVault({ name: 'evvault', vaultUri: 'https://evvault.vault.localhost/' });
  const lookup = { getVault: async (name: string) => (name === 'evvault' ? vault : undefined) };
  const change = (name: string): CommittedChange => ({ type: 'versionAdded', vault: 'evvault', collection: 'keys', name, version, created: 1 });

  it('publishes one event per change, naming the vault by its ARM id and URL', async () => {
    const publisher = new FlakyPublisher();
    expect(await new EventEmitter(lookup, publisher).emit([change('k1'), { ...change('gone'), vault: 'purged' }])).toEqual([]);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({
      eventType: 'Microsoft.KeyVault.KeyNewVersionCreated',
      topic: `/subscriptions/${vault.subscriptionId}/resourceGroups/${vault.resourceGroup}/providers/Microsoft.KeyVault/vaults/evvault`,
      data: { Id: `https://evvault.vault.localhost/keys/k1/${version}` },
    });
  });

  it('answers the changes whose events failed, and publishes them again with the same ids', async () => {
    const publisher = new FlakyPublisher();
    const emitter = new EventEmitter(lookup, publisher);
    publisher.failNext = 1;
    expect(await emitter.emit([change('k1'), change('k2')])).toEqual([0]);
    expect(await emitter.emit([change('k1'), change('k2')])).toEqual([]);
    const ids = publisher.published.map((e) => `${e.subject}:${e.id}`);
    // k2 went out twice (at least once), k1 once: de-duplicating by id leaves one of each.
    expect(new Set(ids).size).toBe(2);
    expect(publisher.published.map((e) => e.subject).sort()).toEqual(['k1', 'k2', 'k2']);
  });
});
