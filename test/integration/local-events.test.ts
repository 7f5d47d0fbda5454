import { randomUUID } from 'node:crypto';
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListApiDestinationsCommand,
  ListConnectionsCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target,
  UpdateApiDestinationCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, raw, secretClient, uniqueName } from '../support/local.ts';
import { makePfx, selfSignedCertificate } from '../support/certificates.ts';
import { eventBridgeClient, eventsLogLines, jsonLines, type ReceivedRequest, startWebhook, waitFor } from '../support/events.ts';

/**
 * The local event path end to end: a committed write goes through DynamoDB Local's stream, the
 * production event function (run by the gateway) and the local EventBridge, to events.log and, through
 * a rule with an API destination target made with the official EventBridge SDK, to a webhook.
 */
const info = localStack();
const eventBridge = eventBridgeClient(info);
const credential = adminSecretCredential(info);
const clientOptions = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  eventBridge.destroy();
});

/** A rule on the stack's bus for events about objects named `prefix*`, delivered to `endpoint` as Event Grid delivers them. */
async function subscribe(
  prefix: string,
  endpoint: string,
  options: { eventTypes?: string[]; retry?: Target['RetryPolicy']; bus?: string } = {},
): Promise<{ rule: string; ruleArn: string }> {
  const name = uniqueName('sub');
  const connection = await eventBridge.send(
    new CreateConnectionCommand({
      Name: `${name}-connection`,
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'hook-key' },
        InvocationHttpParameters: { HeaderParameters: [{ Key: 'x-connection', Value: 'yes', IsValueSecret: false }] },
      },
    }),
  );
  const destination = await eventBridge.send(
    new CreateApiDestinationCommand({
      Name: `${name}-destination`,
      ConnectionArn: connection.ConnectionArn,
      InvocationEndpoint: `${endpoint}/hook`,
      HttpMethod: 'POST',
    }),
  );
  const bus = options.bus ?? info.eventBus;
  const { RuleArn } = await eventBridge.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: bus,
      EventPattern: JSON.stringify({
        source: ['coffer.keyvault'],
        ...(options.eventTypes ? { 'detail-type': options.eventTypes } : {}),
        detail: { subject: [{ prefix: { 'equals-ignore-case': prefix.toUpperCase() } }] },
      }),
    }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: bus,
      Targets: [
        {
          Id: 'webhook',
          Arn: destination.ApiDestinationArn,
          InputTransformer: { InputPathsMap: { detail: '$.detail' }, InputTemplate: '[<detail>]' },
          HttpParameters: { HeaderParameters: { 'aeg-event-type': 'Notification' } },
          RetryPolicy: options.retry ?? { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:coffer-local-dead-letters' },
        },
      ],
    }),
  );
  cleanups.push(async () => {
    await eventBridge.send(new RemoveTargetsCommand({ Rule: name, EventBusName: bus, Ids: ['webhook'] }));
    await eventBridge.send(new DeleteRuleCommand({ Name: name, EventBusName: bus }));
    await eventBridge.send(new DeleteApiDestinationCommand({ Name: `${name}-destination` }));
    await eventBridge.send(new DeleteConnectionCommand({ Name: `${name}-connection` }));
  });
  return { rule: name, ruleArn: RuleArn! };
}

function eventsAt(webhook: { received: ReceivedRequest[] }, subject: string): any[] {
  return webhook.received.flatMap((request) => JSON.parse(request.body) as any[]).filter((event) => event.subject === subject);
}

const putsAbout = (subject: string) => eventsLogLines(info.eventsLog).filter((line) => line.kind === 'put' && line.subject === subject);

describe('events from committed writes', () => {
  it('a SetSecret yields exactly one SecretNewVersionCreated, in events.log and at the subscribed webhook', async () => {
    const webhook = await startWebhook();
    cleanups.push(webhook.close);
    const prefix = uniqueName('evsecret');
    await subscribe(prefix, webhook.url);
    const name = `${prefix}-db`;
    const secret = await secretClient(credential, info).setSecret(name, 'hunter2', { expiresOn: new Date('2031-01-01T00:00:00Z') });

    const [event] = await waitFor('the event at the webhook', () => eventsAt(webhook, name).length > 0 && eventsAt(webhook, name));
    const vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${info.vaultName}`;
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: vaultId,
      subject: name,
      eventType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      eventTime: expect.any(String),
      data: {
        Id: expect.stringMatching(new RegExp(`/secrets/${name}/${secret.properties.version}$`)),
        VaultName: info.vaultName,
        ObjectType: 'Secret',
        ObjectName: name,
        Version: secret.properties.version,
        EXP: Date.parse('2031-01-01T00:00:00Z') / 1000,
      },
      dataVersion: '1',
      metadataVersion: '1',
    });
    expect(Math.abs(Date.parse(event.eventTime) - Date.now())).toBeLessThan(60_000);
    const request = webhook.received.find((r) => r.body.includes(name))!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook');
    expect(request.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-api-key': 'hook-key',
      'x-connection': 'yes',
      'aeg-event-type': 'Notification',
    });
    // Nothing of the secret's value travels with its event.
    expect(request.body).not.toContain('hunter2');

    const puts = await waitFor('the events.log line', () => putsAbout(name).length > 0 && putsAbout(name));
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ bus: info.eventBus, 'detail-type': 'Microsoft.KeyVault.SecretNewVersionCreated', detailId: event.id });
    expect(JSON.stringify(eventsLogLines(info.eventsLog))).not.toContain('hunter2');
    expect(JSON.stringify(eventsLogLines(info.eventsLog))).not.toContain('hook-key');
    const delivered = eventsLogLines(info.eventsLog).filter((l) => l.kind === 'delivery' && l.id === puts[0]!.id);
    expect(delivered).toMatchObject([{ outcome: 'delivered', status: 200, attempt: 1 }]);
    // Once more after a pause: the same change is not published twice.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(eventsAt(webhook, name)).toHaveLength(1);
    expect(putsAbout(name)).toHaveLength(1);
  });

  it('a CreateKey yields one KeyNewVersionCreated and a certificate import one CertificateNewVersionCreated', async () => {
    const webhook = await startWebhook();
    cleanups.push(webhook.close);
    const prefix = uniqueName('evobj');
    await subscribe(prefix, webhook.url, {
      eventTypes: ['Microsoft.KeyVault.KeyNewVersionCreated', 'Microsoft.KeyVault.CertificateNewVersionCreated'],
    });
    const keyName = `${prefix}-key`;
    const certificateName = `${prefix}-cert`;
    const key = await new KeyClient(info.vaultUrl, credential, clientOptions).createRsaKey(keyName);
    const material = selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=${certificateName}.example` });
    const certificate = await new CertificateClient(info.vaultUrl, credential, clientOptions).importCertificate(certificateName, makePfx(material));

    const [keyEvent] = await waitFor('the key event', () => eventsAt(webhook, keyName).length > 0 && eventsAt(webhook, keyName));
    expect(keyEvent).toMatchObject({
      eventType: 'Microsoft.KeyVault.KeyNewVersionCreated',
      data: { ObjectType: 'Key', ObjectName: keyName, Version: key.properties.version },
    });
    const [certificateEvent] = await waitFor(
      'the certificate event',
      () => eventsAt(webhook, certificateName).length > 0 && eventsAt(webhook, certificateName),
    );
    expect(certificateEvent).toMatchObject({
      eventType: 'Microsoft.KeyVault.CertificateNewVersionCreated',
      data: { ObjectType: 'Certificate', ObjectName: certificateName, Version: certificate.properties.version },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Exactly one of each; the certificate's import also made its key and secret (same name), whose
    // KeyNewVersionCreated the rule asked for and whose SecretNewVersionCreated it did not.
    expect(eventsAt(webhook, keyName)).toHaveLength(1);
    expect(
      eventsAt(webhook, certificateName)
        .map((event) => event.eventType)
        .sort(),
    ).toEqual(['Microsoft.KeyVault.CertificateNewVersionCreated', 'Microsoft.KeyVault.KeyNewVersionCreated']);
    expect(putsAbout(keyName).map((line) => line['detail-type'])).toEqual(['Microsoft.KeyVault.KeyNewVersionCreated']);
    expect(
      putsAbout(certificateName)
        .map((line) => line['detail-type'])
        .sort(),
    ).toEqual([
      'Microsoft.KeyVault.CertificateNewVersionCreated',
      'Microsoft.KeyVault.KeyNewVersionCreated',
      'Microsoft.KeyVault.SecretNewVersionCreated',
    ]);
  });

  it('a write that fails commits no event', async () => {
    const name = uniqueName('evfail');
    const refused = await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value: 'x', attributes: { exp: 'not a date' } } });
    expect(refused.status).toBe(400);
    // A later write's event has been through the same stream: anything before it was too.
    const marker = uniqueName('evmarker');
    await secretClient(credential, info).setSecret(marker, 'y');
    await waitFor('the later write', () => putsAbout(marker).length > 0);
    expect(putsAbout(name)).toEqual([]);
  });
});

describe('delivery to webhooks', () => {
  it('retries a failing webhook with growing pauses and ends in the dead-letter log', async () => {
    const webhook = await startWebhook(() => 503);
    cleanups.push(webhook.close);
    const prefix = uniqueName('evretry');
    const { ruleArn } = await subscribe(prefix, webhook.url, { retry: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 } });
    const subject = `${prefix}-x`;
    const detail = { id: randomUUID(), subject, eventType: 'Microsoft.KeyVault.SecretNewVersionCreated' };
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [{ Source: 'coffer.keyvault', DetailType: detail.eventType, Detail: JSON.stringify(detail), EventBusName: info.eventBus }],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const eventId = put.Entries![0]!.EventId!;

    const dead = await waitFor('the dead letter', () => jsonLines(info.eventsDeadLetterLog).find((line) => line.event?.id === eventId), 30_000);
    expect(dead).toMatchObject({
      deadLetterQueue: 'arn:aws:sqs:us-east-1:000000000000:coffer-local-dead-letters',
      attributes: { RULE_ARN: ruleArn, ERROR_CODE: 'SDK_CLIENT_ERROR', EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts', RETRY_ATTEMPTS: 2 },
      event: { 'detail-type': detail.eventType, source: 'coffer.keyvault', detail },
    });
    // The first try and two retries, each pause longer than the one before.
    expect(webhook.received).toHaveLength(3);
    const [first, second, third] = webhook.received.map((r) => r.at) as [number, number, number];
    expect(second - first).toBeGreaterThan(500);
    expect(third - second).toBeGreaterThan(second - first);
    const attempts = eventsLogLines(info.eventsLog).filter((line) => line.kind === 'delivery' && line.id === eventId);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'retrying', 503],
      [2, 'retrying', 503],
      [3, 'dead-lettered', 503],
    ]);
  });

  it('a webhook answering a 400 is not retried', async () => {
    const webhook = await startWebhook(() => 400);
    cleanups.push(webhook.close);
    const prefix = uniqueName('ev400');
    await subscribe(prefix, webhook.url);
    const detail = { subject: `${prefix}-x` };
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [{ Source: 'coffer.keyvault', DetailType: 't', Detail: JSON.stringify(detail), EventBusName: info.eventBus }],
      }),
    );
    const eventId = put.Entries![0]!.EventId!;
    await waitFor('the dead letter', () => jsonLines(info.eventsDeadLetterLog).find((line) => line.event?.id === eventId));
    expect(webhook.received).toHaveLength(1);
  });

  it('never contacts a destination off loopback', async () => {
    const name = uniqueName('evremote');
    const connection = await eventBridge.send(
      new CreateConnectionCommand({
        Name: name,
        AuthorizationType: 'BASIC',
        AuthParameters: { BasicAuthParameters: { Username: 'u', Password: 'p' } },
      }),
    );
    // TEST-NET-1: nothing answers there; a refusal must come before any attempt.
    const destination = await eventBridge.send(
      new CreateApiDestinationCommand({
        Name: name,
        ConnectionArn: connection.ConnectionArn,
        InvocationEndpoint: 'https://192.0.2.1/hook',
        HttpMethod: 'POST',
      }),
    );
    await eventBridge.send(
      new PutRuleCommand({ Name: name, EventBusName: info.eventBus, EventPattern: JSON.stringify({ detail: { subject: [name] } }) }),
    );
    await eventBridge.send(
      new PutTargetsCommand({ Rule: name, EventBusName: info.eventBus, Targets: [{ Id: 't', Arn: destination.ApiDestinationArn }] }),
    );
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [{ Source: 'test', DetailType: 't', Detail: JSON.stringify({ subject: name }), EventBusName: info.eventBus }],
      }),
    );
    const eventId = put.Entries![0]!.EventId!;
    const dead = await waitFor('the refusal', () => jsonLines(info.eventsDeadLetterLog).find((line) => line.event?.id === eventId));
    expect(dead.attributes.ERROR_CODE).toBe('NOT_LOOPBACK');
    const attempts = eventsLogLines(info.eventsLog).filter((line) => line.kind === 'delivery' && line.id === eventId);
    expect(attempts).toMatchObject([{ attempt: 1, outcome: 'dead-lettered', refused: expect.stringContaining('loopback') }]);
  });
});

describe('the EventBridge wire API', () => {
  it('answers rules, targets, connections and API destinations in the API shapes, with its error codes', async () => {
    const name = uniqueName('evapi');
    const bus = info.eventBus;
    const pattern = JSON.stringify({ source: ['coffer.keyvault'], detail: { subject: [{ suffix: '-db' }] } });
    const { RuleArn } = await eventBridge.send(new PutRuleCommand({ Name: name, EventBusName: bus, EventPattern: pattern, Description: 'd' }));
    expect(RuleArn).toBe(`arn:aws:events:us-east-1:000000000000:rule/${bus}/${name}`);
    const described = await eventBridge.send(new DescribeRuleCommand({ Name: name, EventBusName: bus }));
    expect(described).toMatchObject({ Name: name, Arn: RuleArn, EventPattern: pattern, State: 'ENABLED', Description: 'd', EventBusName: bus });
    const listed = await eventBridge.send(new ListRulesCommand({ EventBusName: bus, NamePrefix: name }));
    expect(listed.Rules?.map((r) => r.Name)).toEqual([name]);

    const connection = await eventBridge.send(
      new CreateConnectionCommand({
        Name: name,
        AuthorizationType: 'API_KEY',
        AuthParameters: {
          ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'very-secret' },
          InvocationHttpParameters: { HeaderParameters: [{ Key: 'x-hidden', Value: 'also-secret', IsValueSecret: true }] },
        },
      }),
    );
    expect(connection).toMatchObject({ ConnectionState: 'AUTHORIZED', CreationTime: expect.any(Date) });
    const describedConnection = await eventBridge.send(new DescribeConnectionCommand({ Name: name }));
    expect(describedConnection.AuthParameters).toEqual({
      ApiKeyAuthParameters: { ApiKeyName: 'x-key' },
      InvocationHttpParameters: { HeaderParameters: [{ Key: 'x-hidden', IsValueSecret: true }] },
    });
    await expect(
      eventBridge.send(
        new CreateConnectionCommand({
          Name: name,
          AuthorizationType: 'BASIC',
          AuthParameters: { BasicAuthParameters: { Username: 'u', Password: 'p' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    const destination = await eventBridge.send(
      new CreateApiDestinationCommand({
        Name: name,
        ConnectionArn: connection.ConnectionArn,
        InvocationEndpoint: 'http://127.0.0.1:9/x',
        HttpMethod: 'PUT',
      }),
    );
    expect(destination.ApiDestinationArn).toMatch(new RegExp(`^arn:aws:events:us-east-1:000000000000:api-destination/${name}/`));
    expect(await eventBridge.send(new DescribeApiDestinationCommand({ Name: name }))).toMatchObject({
      Name: name,
      ApiDestinationState: 'ACTIVE',
      ConnectionArn: connection.ConnectionArn,
      InvocationEndpoint: 'http://127.0.0.1:9/x',
      HttpMethod: 'PUT',
    });

    const target = { Id: 'one', Arn: destination.ApiDestinationArn!, Input: '{"fixed":true}', RetryPolicy: { MaximumRetryAttempts: 0 } };
    expect(await eventBridge.send(new PutTargetsCommand({ Rule: name, EventBusName: bus, Targets: [target] }))).toMatchObject({
      FailedEntryCount: 0,
      FailedEntries: [],
    });
    expect((await eventBridge.send(new ListTargetsByRuleCommand({ Rule: name, EventBusName: bus }))).Targets).toEqual([target]);
    await expect(eventBridge.send(new DeleteRuleCommand({ Name: name, EventBusName: bus }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: "Rule can't be deleted since it has targets.",
    });
    await expect(
      eventBridge.send(
        new PutTargetsCommand({
          Rule: name,
          EventBusName: bus,
          Targets: [{ Id: 'two', Arn: destination.ApiDestinationArn!, Input: '{', InputPath: '$.detail' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await eventBridge.send(new RemoveTargetsCommand({ Rule: name, EventBusName: bus, Ids: ['one'] }));
    await eventBridge.send(new DeleteRuleCommand({ Name: name, EventBusName: bus }));
    await expect(eventBridge.send(new DescribeRuleCommand({ Name: name, EventBusName: bus }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(eventBridge.send(new ListTargetsByRuleCommand({ Rule: name, EventBusName: bus }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await eventBridge.send(new DeleteApiDestinationCommand({ Name: name }));
    await expect(eventBridge.send(new DescribeApiDestinationCommand({ Name: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await eventBridge.send(new DeleteConnectionCommand({ Name: name }));
    await expect(eventBridge.send(new DescribeConnectionCommand({ Name: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('updates and lists connections and destinations, and a disabled rule delivers nothing', async () => {
    const first = await startWebhook();
    const second = await startWebhook();
    cleanups.push(first.close, second.close);
    const name = uniqueName('evupdate');
    const connection = await eventBridge.send(
      new CreateConnectionCommand({
        Name: name,
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'one' } },
      }),
    );
    const destination = await eventBridge.send(
      new CreateApiDestinationCommand({
        Name: name,
        ConnectionArn: connection.ConnectionArn,
        InvocationEndpoint: `${first.url}/a`,
        HttpMethod: 'POST',
      }),
    );
    await eventBridge.send(
      new PutRuleCommand({ Name: name, EventBusName: info.eventBus, EventPattern: JSON.stringify({ detail: { subject: [name] } }) }),
    );
    await eventBridge.send(
      new PutTargetsCommand({ Rule: name, EventBusName: info.eventBus, Targets: [{ Id: 't', Arn: destination.ApiDestinationArn }] }),
    );
    const put = () =>
      eventBridge.send(
        new PutEventsCommand({
          Entries: [{ Source: 'test', DetailType: 't', Detail: JSON.stringify({ subject: name }), EventBusName: info.eventBus }],
        }),
      );

    await put();
    await waitFor('the first webhook', () => first.received.length === 1);
    expect(first.received[0]!.headers['x-key']).toBe('one');

    await eventBridge.send(
      new UpdateConnectionCommand({ Name: name, AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'two' } } }),
    );
    const updated = await eventBridge.send(new UpdateApiDestinationCommand({ Name: name, InvocationEndpoint: `${second.url}/b` }));
    expect(updated).toMatchObject({ ApiDestinationArn: destination.ApiDestinationArn, ApiDestinationState: 'ACTIVE' });
    expect(await eventBridge.send(new DescribeApiDestinationCommand({ Name: name }))).toMatchObject({
      InvocationEndpoint: `${second.url}/b`,
      HttpMethod: 'POST',
    });
    expect((await eventBridge.send(new ListConnectionsCommand({ NamePrefix: name }))).Connections).toMatchObject([
      { Name: name, ConnectionArn: connection.ConnectionArn, AuthorizationType: 'API_KEY', ConnectionState: 'AUTHORIZED' },
    ]);
    expect((await eventBridge.send(new ListApiDestinationsCommand({ NamePrefix: name }))).ApiDestinations).toMatchObject([
      { Name: name, InvocationEndpoint: `${second.url}/b` },
    ]);
    await put();
    await waitFor('the second webhook', () => second.received.length === 1);
    expect(second.received[0]).toMatchObject({ url: '/b', headers: { 'x-key': 'two' } });

    await eventBridge.send(new DisableRuleCommand({ Name: name, EventBusName: info.eventBus }));
    expect((await eventBridge.send(new DescribeRuleCommand({ Name: name, EventBusName: info.eventBus }))).State).toBe('DISABLED');
    const ignored = await put();
    await waitFor('the put', () => eventsLogLines(info.eventsLog).find((line) => line.id === ignored.Entries![0]!.EventId));
    await eventBridge.send(new EnableRuleCommand({ Name: name, EventBusName: info.eventBus }));
    await put();
    await waitFor('the webhook after the rule is enabled again', () => second.received.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second.received).toHaveLength(2);
    expect(first.received).toHaveLength(1);
  });

  it('refuses patterns it cannot match as AWS does, a bus that does not exist, and bad PutEvents entries', async () => {
    for (const pattern of [
      { detail: { size: [{ numeric: ['>', 1] }] } },
      { source: [{ 'anything-but': 'x' }] },
      { source: [{ wildcard: 'a*' }] },
      { source: 'coffer.keyvault' },
      {},
    ]) {
      await expect(
        eventBridge.send(new PutRuleCommand({ Name: uniqueName('evbad'), EventBusName: info.eventBus, EventPattern: JSON.stringify(pattern) })),
      ).rejects.toMatchObject({
        name: 'InvalidEventPatternException',
      });
    }
    await expect(
      eventBridge.send(new PutRuleCommand({ Name: uniqueName('evbad'), EventBusName: 'no-such-bus', EventPattern: '{"source":["x"]}' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const answer = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          { Source: 's', DetailType: 't', Detail: 'not json', EventBusName: info.eventBus },
          { Source: 's', DetailType: 't', Detail: '{}', EventBusName: 'default' },
          { Source: 's', DetailType: 't', Detail: '{}', EventBusName: 'no-such-bus' },
        ],
      }),
    );
    expect(answer.FailedEntryCount).toBe(2);
    expect(answer.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'ok', 'ResourceNotFoundException']);
  });

  it('refuses requests not signed with the stack credential', async () => {
    const wrongSecret = new EventBridgeClient({
      endpoint: info.endpoints.eventbridge,
      region: 'us-east-1',
      credentials: { accessKeyId: info.awsCredentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const wrongKey = new EventBridgeClient({
      endpoint: info.endpoints.eventbridge,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const entries = [{ Source: 's', DetailType: 't', Detail: '{}', EventBusName: info.eventBus }];
    await expect(wrongSecret.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    await expect(wrongKey.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    wrongSecret.destroy();
    wrongKey.destroy();
    const unsigned = await fetch(info.endpoints.eventbridge, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: entries }),
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });
});
