/**
 * The reference rotator for real (docs/rotation.md): a PostgreSQL server from Debian's packages
 * (test/support/postgres.ts), a role whose credential is a secret of the local stack's vault written
 * with the official SecretClient, an application that keeps connecting with the secret's current
 * value, and the production rotator (lib/runtime/rotation.ts: SecretClient + pg) run on demand, from
 * a SecretNearExpiry as the Lambda receives it from an EventBridge rule, and through its loopback
 * webhook with Event Grid's handshake. The application keeps connecting across every rotation; the
 * old password stops working; the new version carries the next expiry; a failure injected at each
 * step leaves the previous version current and accepted; a duplicate event rotates once.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRotatorWebhook } from '../../dev/rotator-webhook.ts';
import { type PostgresCredential, parseCredential } from '../../lib/rotation/credential.ts';
import { EventBridgeClient } from '../../lib/aws/api/eventbridge.ts';
import { rotationFailurePublisher } from '../../lib/aws/rotation-failures.ts';
import { ROTATION_EVENT_SOURCE, ROTATION_FAILED_EVENT_TYPE } from '../../lib/rotation/failure-event.ts';
import { PostgresRoleDatabase } from '../../lib/rotation/postgres.ts';
import { KeyVaultSecretStore } from '../../lib/rotation/key-vault-store.ts';
import { PostgresPasswordRotator, RotationFailed, type RotationStep } from '../../lib/rotation/rotation.ts';
import { type Rotation, rotateForInvocation, rotationWith } from '../../lib/runtime/rotation.ts';
import { REGION } from '../../dev/local-environment.ts';
import { eventsLogLines, waitFor } from '../support/events.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const info = localStack();
const DAY = 86_400;
const ROLE = 'orders_app';
let server: PostgresServer;
let client: SecretClient;
let rotation: Rotation;
let secretName: string;

/** What an application does: read the secret's current value, connect with it; on a refused password read again and retry. */
class Application {
  connections = 0;
  /** Connections that failed even after reading the secret again: must stay none. */
  failures: string[] = [];
  /** Connections refused at the first try (the moment between the password change and the new version), retried with a fresh read. */
  retried = 0;
  private running = true;
  private loop: Promise<void> | undefined;

  start() {
    this.loop = (async () => {
      while (this.running) {
        await this.connectOnce();
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  async stop() {
    this.running = false;
    await this.loop;
  }

  private async connectOnce() {
    for (let attempt = 0; attempt < 20; attempt++) {
      const credential = parseCredential((await client.getSecret(secretName)).value!);
      const connection = new pg.Client({ ...pgOptions(credential) });
      try {
        await connection.connect();
        const { rows } = await connection.query('SELECT current_user AS who');
        if (rows[0].who !== ROLE) throw new Error(`connected as ${rows[0].who}`);
        this.connections++;
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '28P01') {
          this.failures.push(String(error));
          return;
        }
        this.retried++;
        await new Promise((r) => setTimeout(r, 25));
      } finally {
        await connection.end().catch(() => {});
      }
    }
    this.failures.push('the password was refused 20 times in a row');
  }

  /** Waits until `count` more connections succeeded. */
  async connectsAgain(count = 5) {
    const target = this.connections + count;
    const deadline = Date.now() + 20_000;
    while (this.connections < target) {
      if (Date.now() > deadline) throw new Error('the application stopped connecting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function pgOptions(credential: PostgresCredential): pg.ClientConfig {
  return { host: credential.host, port: credential.port, database: credential.database, user: credential.username, password: credential.password };
}

async function logsIn(credential: PostgresCredential): Promise<boolean> {
  return new PostgresRoleDatabase().authenticates(credential);
}

async function current() {
  const secret = await client.getSecret(secretName);
  return {
    version: secret.properties.version!,
    credential: parseCredential(secret.value!),
    expiresOn: secret.properties.expiresOn,
    id: secret.properties.id!,
  };
}

async function versionCount(): Promise<number> {
  let count = 0;
  for await (const _ of client.listPropertiesOfSecretVersions(secretName)) count++;
  return count;
}

function nearExpiryEvent(id: string, version: string) {
  return {
    id: `near-expiry-${version}`,
    topic: `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/default`,
    subject: secretName,
    eventType: 'Microsoft.KeyVault.SecretNearExpiry',
    eventTime: new Date().toISOString(),
    data: { Id: id, VaultName: 'default', ObjectType: 'Secret', ObjectName: secretName, Version: version, EXP: Math.floor(Date.now() / 1000) + DAY },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

const app = new Application();

beforeAll(async () => {
  server = await startPostgres();
  const admin = await server.admin();
  const first = `first-${Math.random().toString(36).slice(2)}`;
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD ${admin.escapeLiteral(first)}`);
  await admin.end();
  client = new SecretClient(info.vaultUrl, adminSecretCredential(), { disableChallengeResourceVerification: true });
  secretName = uniqueName('orders-db');
  const value = JSON.stringify({ host: server.host, port: server.port, database: 'postgres', username: ROLE, password: first });
  await client.setSecret(secretName, value, {
    contentType: 'application/json',
    expiresOn: new Date(Date.now() + 10 * DAY * 1000),
    tags: { 'rotation-period': 'P60D', owner: 'orders' },
  });
  rotation = rotationWith(info.vaultUrl, adminSecretCredential(), { challengeResourceCheck: false });
  app.start();
  await app.connectsAgain(3);
}, 240_000);

afterAll(async () => {
  await app.stop();
  await server?.stop();
});

describe('rotating a PostgreSQL role password', () => {
  it('on demand: the application keeps connecting, the old password stops working, the new version expires after the rotation period', async () => {
    const before = await current();
    const versionsBefore = await versionCount();
    const result = await rotation.rotator.rotate({ secretName });
    await app.connectsAgain();

    const after = await current();
    expect(result).toMatchObject({ outcome: 'rotated', previousVersion: before.version, version: after.version });
    expect(after.version).not.toBe(before.version);
    expect(await versionCount()).toBe(versionsBefore + 1);
    expect(after.credential).toEqual({ ...before.credential, password: expect.any(String) });
    expect(after.credential.password).not.toBe(before.credential.password);
    expect(after.credential.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Math.abs(after.expiresOn!.getTime() - (Date.now() + 60 * DAY * 1000))).toBeLessThan(120_000);
    const secret = await client.getSecret(secretName);
    expect(secret.properties.tags).toEqual({ 'rotation-period': 'P60D', owner: 'orders' });
    expect(secret.properties.contentType).toBe('application/json');

    expect(await logsIn(before.credential)).toBe(false);
    expect(await logsIn(after.credential)).toBe(true);
    expect(app.failures).toEqual([]);
  });

  it('from SecretNearExpiry as an EventBridge rule delivers it to the Lambda, once for a duplicate delivery', async () => {
    const before = await current();
    const versionsBefore = await versionCount();
    const event = nearExpiryEvent(before.id, before.version);
    const envelope = { version: '0', id: 'eb-1', source: 'coffer.keyvault', 'detail-type': event.eventType, resources: [event.topic], detail: event };

    const [first] = await rotateForInvocation(rotation, envelope);
    expect(first).toMatchObject({ outcome: 'rotated', secretName });
    // At-least-once: the same event again, as the detail alone this time (InputPath $.detail).
    const [again] = await rotateForInvocation(rotation, event);
    expect(again).toMatchObject({ outcome: 'skipped', secretName, currentVersion: first!.version });
    await app.connectsAgain();

    expect(await versionCount()).toBe(versionsBefore + 1);
    expect((await current()).version).toBe(first!.version);
    expect(await logsIn(before.credential)).toBe(false);
    expect(app.failures).toEqual([]);
  });

  it('through the loopback webhook: the validation handshake, then a notification; the same event twice rotates once', async () => {
    const webhook = await startRotatorWebhook(rotation);
    try {
      const post = (type: string, body: unknown) =>
        fetch(webhook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'aeg-event-type': type }, body: JSON.stringify(body) });
      const validation = await post('SubscriptionValidation', [
        { id: 'v1', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: { validationCode: 'code-42', validationUrl: null } },
      ]);
      expect(validation.status).toBe(200);
      expect(await validation.json()).toEqual({ validationResponse: 'code-42' });

      const before = await current();
      const versionsBefore = await versionCount();
      const event = nearExpiryEvent(before.id, before.version);
      const [one, two] = await Promise.all([post('Notification', [event]), post('Notification', [event])]);
      expect([one.status, two.status]).toEqual([200, 200]);
      const outcomes = [((await one.json()) as any).results[0].outcome, ((await two.json()) as any).results[0].outcome].sort();
      expect(outcomes).toEqual(['rotated', 'skipped']);
      await app.connectsAgain();
      expect(await versionCount()).toBe(versionsBefore + 1);
      expect(await logsIn(before.credential)).toBe(false);

      const other = await post('Notification', [nearExpiryEvent(`https://127.0.0.2:1/secrets/${secretName}/${before.version}`, before.version)]);
      expect(other.status).toBe(400);
      expect(app.failures).toEqual([]);
    } finally {
      await webhook.close();
    }
  });

  describe('a failure injected at each step leaves the previous version current and the database accepting it', () => {
    const store = () =>
      new KeyVaultSecretStore(new SecretClient(info.vaultUrl, adminSecretCredential(), { disableChallengeResourceVerification: true }));
    // Each failure's event, through the stack's own EventBridge as the deployed rotator puts it on the bus.
    const bus = new EventBridgeClient({ region: REGION, endpoint: info.endpoints.eventbridge, credentials: () => info.awsCredentials });
    const announceFailure = rotationFailurePublisher(bus, info.eventBus, info.vaultUrl);
    const failureEvents = () =>
      eventsLogLines(info.eventsLog).filter(
        (line) => line.kind === 'put' && line['detail-type'] === ROTATION_FAILED_EVENT_TYPE && line.subject === secretName,
      );
    afterAll(() => bus.destroy());
    const injections: Record<RotationStep, () => PostgresPasswordRotator> = {
      createSecret: () =>
        new PostgresPasswordRotator({
          store: store(),
          database: new PostgresRoleDatabase(),
          announceFailure,
          generatePassword: () => {
            throw new Error('no entropy');
          },
        }),
      setSecret: () => {
        const database = new PostgresRoleDatabase();
        return new PostgresPasswordRotator({
          store: store(),
          announceFailure,
          database: {
            authenticates: (credential) => database.authenticates(credential),
            openSession: async (credential) => {
              const session = await database.openSession(credential);
              // The real ALTER ROLE, on a role name the server does not have: PostgreSQL refuses it.
              return { ...session, setPassword: (_role, password) => session.setPassword(`${ROLE}_missing`, password) };
            },
          },
        });
      },
      testSecret: () => {
        const database = new PostgresRoleDatabase();
        let calls = 0;
        return new PostgresPasswordRotator({
          store: store(),
          announceFailure,
          database: {
            // The first check is of the current version; the second, of the new password, is answered by a
            // connection to a port nothing listens on.
            authenticates: (credential) => database.authenticates(++calls === 2 ? { ...credential, port: 1 } : credential),
            openSession: (credential) => database.openSession(credential),
          },
        });
      },
      finishSecret: () => {
        const real = store();
        return new PostgresPasswordRotator({
          store: { current: (name) => real.current(name), addVersion: async () => Promise.reject(new Error('the vault answered 503')) },
          database: new PostgresRoleDatabase(),
          announceFailure,
        });
      },
    };

    it.each(Object.keys(injections) as RotationStep[])('%s', async (step) => {
      const before = await current();
      const versionsBefore = await versionCount();
      const announcedBefore = failureEvents().length;
      const failure = await injections[step]()
        .rotate({ secretName, expectedVersion: before.version })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RotationFailed);
      expect(failure).toMatchObject({ step, restored: true });
      // Its failure event is on the bus: one more, under the rotator's own source.
      const announced = await waitFor('the failure event', () => failureEvents().length > announcedBefore && failureEvents());
      expect(announced).toHaveLength(announcedBefore + 1);
      expect(announced.at(-1)).toMatchObject({ source: ROTATION_EVENT_SOURCE, bus: info.eventBus });
      await app.connectsAgain();

      expect((await current()).version).toBe(before.version);
      expect(await versionCount()).toBe(versionsBefore);
      expect(await logsIn(before.credential)).toBe(true);
      expect(app.failures).toEqual([]);
    });
  });
});
