/**
 * Key Vault's events as the official consumer (@azure/eventgrid's deserializer and system-event
 * predicates) reads them, in both schemas; ids stable across deliveries of one change; filters.
 */
import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import { describe, expect, it } from 'vitest';
import {
  accessPolicyChangedEvent,
  dateEventsDue,
  type EventVault,
  eventMatches,
  KEY_VAULT_EVENT_TYPES,
  NEAR_EXPIRY_SECONDS,
  objectEvent,
  toCloudEvent,
} from '../../../lib/events/events.ts';

const vault: EventVault = {
  name: 'evvault',
  resourceId: '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/evvault',
  baseUrl: 'https://evvault.vault.localhost',
};
const version = 'ee059b2bf4ef4d6a9e8b7a1c2d3e4f50';
const source = { vault, collection: 'secrets' as const, name: 'NewSecret', version, nbf: 1_559_081_980, exp: 1_559_082_102 };

describe('Key Vault events', () => {
  it('are Event Grid events the official deserializer recognizes as Key Vault system events', async () => {
    const event = objectEvent('NewVersionCreated', source, 1_700_000_000);
    expect(event).toMatchObject({
      topic: vault.resourceId,
      subject: 'NewSecret',
      eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      eventTime: '2023-11-14T22:13:20.000Z',
      dataVersion: '1',
      metadataVersion: '1',
      data: {
        Id: `https://evvault.vault.localhost/secrets/NewSecret/${version}`,
        VaultName: 'evvault',
        ObjectType: 'Secret',
        ObjectName: 'NewSecret',
        Version: version,
        NBF: 1_559_081_980,
        EXP: 1_559_082_102,
      },
    });
    const [parsed] = await new EventGridDeserializer().deserializeEventGridEvents(JSON.stringify([event]));
    expect(isSystemEvent('Microsoft.KeyVault.SecretNewVersionCreated', parsed!)).toBe(true);
    expect(parsed!.id).toBe(event.id);
    expect(parsed!.eventTime.toISOString()).toBe(event.eventTime);
  });

  it('are CloudEvents 1.0 for subscriptions that ask for that schema', async () => {
    const event = objectEvent('Expired', { ...source, collection: 'keys' }, 1_559_082_102);
    const [parsed] = await new EventGridDeserializer().deserializeCloudEvents(JSON.stringify([toCloudEvent(event)]));
    expect(parsed).toMatchObject({
      id: event.id,
      source: vault.resourceId,
      type: 'Microsoft.KeyVault.KeyExpired',
      subject: 'NewSecret',
      specversion: '1.0',
    });
    expect(isSystemEvent('Microsoft.KeyVault.KeyExpired', parsed!)).toBe(true);
  });

  it('name every type for each kind of object', () => {
    const types = new Set<string>();
    for (const collection of ['secrets', 'keys', 'certificates'] as const) {
      for (const moment of ['NewVersionCreated', 'NearExpiry', 'Expired'] as const)
        types.add(objectEvent(moment, { ...source, collection }, 0).eventType);
    }
    types.add(accessPolicyChangedEvent(vault, 3, 0).eventType);
    expect([...types].sort()).toEqual([...KEY_VAULT_EVENT_TYPES].sort());
  });

  it('keep one id for one change however often it is delivered, and a new one for another change', () => {
    const id = objectEvent('NewVersionCreated', source, 1).id;
    expect(objectEvent('NewVersionCreated', { ...source, name: 'newsecret' }, 2).id).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(objectEvent('NewVersionCreated', { ...source, version: 'f'.repeat(32) }, 1).id).not.toBe(id);
    expect(objectEvent('NewVersionCreated', { ...source, collection: 'keys' }, 1).id).not.toBe(id);
    const near = objectEvent('NearExpiry', source, 1).id;
    expect(objectEvent('NearExpiry', { ...source, exp: source.exp + 60 }, 1).id).not.toBe(near);
    expect(accessPolicyChangedEvent(vault, 3, 0).id).toBe(accessPolicyChangedEvent(vault, 3, 99).id);
    expect(accessPolicyChangedEvent(vault, 4, 0).id).not.toBe(accessPolicyChangedEvent(vault, 3, 0).id);
  });

  it('fall due 30 days before expiry (never before the version) and at expiry', () => {
    expect(dateEventsDue(undefined, 0)).toEqual([]);
    expect(dateEventsDue(10_000_000, 0)).toEqual([
      { moment: 'NearExpiry', due: 10_000_000 - NEAR_EXPIRY_SECONDS },
      { moment: 'Expired', due: 10_000_000 },
    ]);
    expect(dateEventsDue(1_000, 500)[0]).toEqual({ moment: 'NearExpiry', due: 500 });
  });

  it('match a subscription filter on type and subject, case-insensitively unless asked', () => {
    const event = objectEvent('NewVersionCreated', source, 0);
    expect(eventMatches({}, event)).toBe(true);
    expect(eventMatches({ includedEventTypes: ['microsoft.keyvault.secretnewversioncreated'] }, event)).toBe(true);
    expect(eventMatches({ includedEventTypes: ['Microsoft.KeyVault.SecretExpired'] }, event)).toBe(false);
    expect(eventMatches({ subjectBeginsWith: 'new', subjectEndsWith: 'SECRET' }, event)).toBe(true);
    expect(eventMatches({ subjectBeginsWith: 'new', isSubjectCaseSensitive: true }, event)).toBe(false);
  });
});
