import { describe, expect, it } from 'vitest';
import type { PostgresPasswordRotator, RotationRequest } from '../../../lib/rotation/rotation.ts';
import { eventGridEventOf, handleWebhook, onDemandRequest, triggerOf } from '../../../lib/rotation/trigger.ts';

const VAULT = 'https://localhost:8443';

function nearExpiry(id = `${VAULT}/secrets/app-db/abc123`, name = 'app-db', version = 'abc123') {
  return {
    id: 'event-1',
    topic: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/default',
    subject: name,
    eventType: 'Microsoft.KeyVault.SecretNearExpiry',
    eventTime: '2026-12-02T00:00:00.000Z',
    data: { Id: id, VaultName: 'default', ObjectType: 'Secret', ObjectName: name, Version: version, EXP: 1_800_000_000 },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

function recordingRotator(fail = false) {
  const requests: RotationRequest[] = [];
  const rotator = {
    rotate: async (request: RotationRequest) => {
      requests.push(request);
      if (fail) throw new Error('rotation of app-db failed at testSecret');
      return { outcome: 'rotated', secretName: request.secretName, previousVersion: 'abc123', version: 'def456', expiresOn: new Date(0) };
    },
  } as unknown as PostgresPasswordRotator;
  return { rotator, requests };
}

describe('what starts a rotation', () => {
  it('a SecretNearExpiry of the vault asks to rotate its secret from the version it names', () => {
    expect(triggerOf(nearExpiry(), VAULT)).toEqual({
      kind: 'event',
      eventId: 'event-1',
      request: { secretName: 'app-db', expectedVersion: 'abc123', at: Date.parse('2026-12-02T00:00:00.000Z') / 1000 },
    });
  });

  it('ignores other event types and refuses an object of another vault', () => {
    expect(triggerOf({ ...nearExpiry(), eventType: 'Microsoft.KeyVault.SecretNewVersionCreated' }, VAULT).kind).toBe('ignored');
    expect(() => triggerOf(nearExpiry('https://attacker.example/secrets/app-db/abc123'), VAULT)).toThrow(/another vault/);
    expect(() => triggerOf(nearExpiry('https://localhost:9999/secrets/app-db/abc123'), VAULT)).toThrow(/another vault/);
    expect(() => triggerOf({ id: 'x' }, VAULT)).toThrow(/not an Event Grid event/);
  });

  it('takes the Event Grid event out of the EventBridge event a rule delivers, or the detail alone', () => {
    const event = nearExpiry();
    expect(eventGridEventOf({ source: 'coffer.keyvault', 'detail-type': event.eventType, detail: event })).toBe(event);
    expect(eventGridEventOf(event)).toBe(event);
    expect(onDemandRequest({ secretName: 'app-db' })).toEqual({ secretName: 'app-db' });
    expect(onDemandRequest(event)).toBeUndefined();
  });
});

describe('the webhook', () => {
  it('answers the subscription validation handshake with its code, rotating nothing', async () => {
    const { rotator, requests } = recordingRotator();
    const body = JSON.stringify([{ id: 'v', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: { validationCode: 'code-123' } }]);
    const response = await handleWebhook({ method: 'POST', headers: { 'Aeg-Event-Type': 'SubscriptionValidation' }, body }, rotator, VAULT);
    expect(response).toEqual({ status: 200, body: { validationResponse: 'code-123' } });
    expect(requests).toEqual([]);
  });

  it('rotates for each SecretNearExpiry of a notification and answers 200', async () => {
    const { rotator, requests } = recordingRotator();
    const body = JSON.stringify([nearExpiry(), { ...nearExpiry(), eventType: 'Microsoft.KeyVault.SecretExpired' }]);
    const response = await handleWebhook({ method: 'POST', headers: { 'aeg-event-type': 'Notification' }, body }, rotator, VAULT);
    expect(response.status).toBe(200);
    expect(requests).toEqual([{ secretName: 'app-db', expectedVersion: 'abc123', at: Date.parse('2026-12-02T00:00:00.000Z') / 1000 }]);
  });

  it('answers 500 when a rotation failed (Event Grid retries), 400 for what is not a delivery of this vault', async () => {
    const failing = recordingRotator(true);
    const headers = { 'aeg-event-type': 'Notification' };
    expect((await handleWebhook({ method: 'POST', headers, body: JSON.stringify([nearExpiry()]) }, failing.rotator, VAULT)).status).toBe(500);
    const { rotator, requests } = recordingRotator();
    expect((await handleWebhook({ method: 'POST', headers, body: '{' }, rotator, VAULT)).status).toBe(400);
    expect((await handleWebhook({ method: 'POST', headers, body: JSON.stringify(nearExpiry()) }, rotator, VAULT)).status).toBe(400);
    const other = JSON.stringify([nearExpiry('https://other.vault.localhost/secrets/app-db/abc123')]);
    expect((await handleWebhook({ method: 'POST', headers, body: other }, rotator, VAULT)).status).toBe(400);
    expect((await handleWebhook({ method: 'GET', headers, body: '' }, rotator, VAULT)).status).toBe(405);
    expect(requests).toEqual([]);
  });
});
