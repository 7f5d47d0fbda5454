/**
 * The EventBridge publisher over a loopback stand-in for PutEvents that speaks its wire protocol
 * (AWS JSON 1.1, `AWSEvents.PutEvents`): batches of 10, each entry the Event Grid event, entries
 * EventBridge refused and requests it failed reported back as not published.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient } from '../../../lib/aws/api/eventbridge.ts';
import { EventBridgePublisher } from '../../../lib/aws/eventbridge-publisher.ts';
import { KEY_VAULT_EVENT_SOURCE } from '../../../lib/events/events.ts';
import { objectEvent } from '../../../lib/events/events.ts';

interface Received {
  target: string | undefined;
  authorization: string | undefined;
  entries: { Source: string; DetailType: string; Detail: string; EventBusName: string; Resources: string[]; Time: number }[];
}

const received: Received[] = [];
let answer: (entries: unknown[]) => { status: number; body: unknown } = (entries) => ({
  status: 200,
  body: { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `id-${i}` })) },
});
let server: Server;
let client: EventBridgeClient;

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const { Entries } = JSON.parse(await bodyOf(request)) as { Entries: Received['entries'] };
    received.push({ target: request.headers['x-amz-target'] as string, authorization: request.headers.authorization, entries: Entries });
    const { status, body } = answer(Entries);
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new EventBridgeClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret' }),
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const vault = {
  name: 'evvault',
  resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/evvault',
  baseUrl: 'https://evvault.vault.localhost',
};
const events = Array.from({ length: 23 }, (_, i) =>
  objectEvent('NewVersionCreated', { vault, collection: 'secrets', name: `s${i}`, version: i.toString(16).padStart(32, '0') }, 1_700_000_000 + i),
);

describe('the EventBridge publisher', () => {
  it('puts the events in batches of 10, each entry the Event Grid event, signed', async () => {
    received.length = 0;
    const { failed } = await new EventBridgePublisher(client, 'coffer-bus').publish(events);
    expect(failed).toEqual([]);
    expect(received.map((r) => r.entries.length)).toEqual([10, 10, 3]);
    expect(received[0]!.target).toBe('AWSEvents.PutEvents');
    expect(received[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/events\/aws4_request/);
    const first = received[0]!.entries[0]!;
    expect(first).toMatchObject({
      Source: KEY_VAULT_EVENT_SOURCE,
      DetailType: 'Microsoft.KeyVault.SecretNewVersionCreated',
      EventBusName: 'coffer-bus',
      Resources: [vault.resourceId],
      Time: 1_700_000_000,
    });
    expect(JSON.parse(first.Detail)).toEqual(events[0]);
  });

  it('reports the entries EventBridge refused, and every event of a request that failed', async () => {
    answer = (entries) => ({
      status: 200,
      body: {
        FailedEntryCount: 1,
        Entries: entries.map((_, i) => (i === 3 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : { EventId: `id-${i}` })),
      },
    });
    const partial = await new EventBridgePublisher(client, 'coffer-bus').publish(events.slice(0, 5));
    expect(partial.failed.map((e) => e.subject)).toEqual(['s3']);

    answer = () => ({ status: 400, body: { __type: 'ValidationException', message: 'bad entries' } });
    const refused = await new EventBridgePublisher(client, 'coffer-bus').publish(events.slice(0, 12));
    expect(refused.failed.map((e) => e.subject)).toEqual(events.slice(0, 12).map((e) => e.subject));
  });
});
