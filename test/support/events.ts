import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { localStack } from './local.ts';

/**
 * What tests of the local event path share: the local EventBridge through the official SDK, the
 * events log it writes, and a webhook on loopback that records what it receives.
 */
export function eventBridgeClient(info = localStack(), endpoint = info.endpoints.eventbridge): EventBridgeClient {
  return new EventBridgeClient({ endpoint, region: 'us-east-1', credentials: info.awsCredentials, maxAttempts: 1 });
}

export interface EventsLogLine {
  time: string;
  kind: 'put' | 'delivery';
  id: string;
  bus?: string;
  source?: string;
  'detail-type'?: string;
  subject?: string;
  detailId?: string;
  rules?: string[];
  rule?: string;
  target?: string;
  attempt?: number;
  outcome?: 'delivered' | 'retrying' | 'dead-lettered';
  status?: number;
  refused?: string;
}

export function eventsLogLines(file = localStack().eventsLog): EventsLogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EventsLogLine);
}

export function jsonLines<T = any>(file: string): T[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  } catch {
    return [];
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ReceivedRequest {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook on 127.0.0.1 answering `status()` to each request and keeping what it received. */
export async function startWebhook(status: () => number = () => 200) {
  const received: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // Event Grid's validation handshake, which an event subscription's create sends first: answered
      // as a webhook that accepts the subscription does, and kept apart from the deliveries.
      if (request.headers['aeg-event-type'] === 'SubscriptionValidation') {
        const [validation] = JSON.parse(body) as { data: { validationCode: string } }[];
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: validation?.data.validationCode }));
        return;
      }
      received.push({ at: Date.now(), method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
