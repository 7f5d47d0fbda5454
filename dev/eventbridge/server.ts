/**
 * A local endpoint for the EventBridge JSON 1.1 protocol, so the local stack runs the production
 * code unchanged: lib/aws/api/eventbridge.ts (and `@aws-sdk/client-eventbridge`) reach it through
 * AWS_ENDPOINT_URL_EVENTBRIDGE, and nothing in lib/ or functions/ knows it is not AWS.
 *
 * Wire format: `POST /`, `X-Amz-Target: AWSEvents.<Operation>`, `Content-Type:
 * application/x-amz-json-1.1`, JSON bodies, timestamps in epoch seconds; failures are HTTP 400 with
 * `{"__type": "<Exception>", "message": "..."}`.
 *
 * Plain HTTP on loopback only, and every request must carry a SigV4 signature by the stack's own
 * credential (authentication.ts), as the local KMS requires (dev/kms/server.ts). Every event put is
 * logged to `eventsLog` (one JSON line: its id, detail-type, subject, the rules it matched), and
 * each delivery attempt's outcome after it; events carry no secret values, and no connection
 * credential is ever logged.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Credentials } from '../sigv4.ts';
import { isSigned, verifySignature } from './authentication.ts';
import { Deliverer } from './delivery.ts';
import { EventBridgeError, eventBridgeError } from './errors.ts';
import { LocalEventBridgeService } from './service.ts';
import { EventBridgeStore } from './store.ts';

export interface LocalEventBridgeOptions {
  /** Where the rules, targets, connections and API destinations are kept (owner-only). */
  dataDir: string;
  credentials: Credentials;
  /** The buses that exist besides `default` (the stack's own: COFFER_EVENT_BUS). */
  buses?: readonly string[];
  /** One JSON line per event put and per delivery attempt (owner-only). */
  eventsLog: string;
  /** Undeliverable events, one JSON line each: what AWS sends the target's dead-letter queue. */
  deadLetterLog: string;
  /** The local CA, trusted for https API destinations on loopback. */
  caFile?: string;
  /** Pause before the first retry of a failed delivery; each next one doubles (default 1 s). */
  retryBaseMs?: number;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** Default 'us-east-1': appears in every ARN. */
  region?: string;
  accountId?: string;
  /** One line per request: operation, status, error type. Never bodies. */
  log?: (line: string) => void;
}

export interface LocalEventBridge {
  /** e.g. http://127.0.0.1:45679: AWS_ENDPOINT_URL_EVENTBRIDGE. */
  endpoint: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const TARGET_PREFIX = 'AWSEvents.';
const OPERATION_NAME = /^[A-Za-z]{1,64}$/;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;
const LOOPBACK_HOST_HEADER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)(:\d+)?$/i;

export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`local EventBridge: refusing to listen on ${host}; it serves loopback only`);
  const { credentials } = options;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey)
    throw new Error('local EventBridge: a credential to verify signatures against is required');
  const store = await EventBridgeStore.open(resolve(options.dataDir), ['default', ...(options.buses ?? [])]);
  const deliverer = new Deliverer({
    eventsLog: options.eventsLog,
    deadLetterLog: options.deadLetterLog,
    ...(options.caFile ? { caPem: await readFile(options.caFile, 'utf8') } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
  });
  const service = new LocalEventBridgeService(store, deliverer, {
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
    eventsLog: options.eventsLog,
  });
  const log = options.log ?? (() => undefined);
  const logFailure = options.log ?? ((line: string) => process.stderr.write(`local EventBridge: ${line}\n`));
  const server = createServer((request, response) => {
    void handle(service, credentials, request, response, log, logFailure);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const endpointHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${endpointHost}:${address.port}`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeIdleConnections();
        });
        await deliverer.close();
      })();
      return closing;
    },
  };
}

async function handle(
  service: LocalEventBridgeService,
  credentials: Credentials,
  request: IncomingMessage,
  response: ServerResponse,
  log: (line: string) => void,
  logFailure: (line: string) => void,
) {
  let operation = '-';
  try {
    if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
      request.resume();
      throw eventBridgeError('UnknownOperationException', 'The local EventBridge answers only POST / with an X-Amz-Target header.', 404);
    }
    // DNS rebinding: a web page's own name resolving to 127.0.0.1 still carries that name as Host.
    if (!LOOPBACK_HOST_HEADER.test(request.headers.host ?? '')) {
      request.resume();
      throw eventBridgeError('AccessDeniedException', 'The local EventBridge answers only requests addressed to a loopback host.', 403);
    }
    if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
    if (!isSigned(request.headers)) {
      request.resume();
      throw eventBridgeError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    const named = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    if (OPERATION_NAME.test(named)) operation = named;
    const raw = await readBody(request);
    await verifySignature({ method: request.method, url: request.url ?? '/', headers: request.headers, body: raw }, credentials);
    if (!target.startsWith(TARGET_PREFIX)) throw eventBridgeError('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/x-amz-json-1\.[01]\b/i.test(contentType)) {
      throw eventBridgeError('SerializationException', `Content-Type must be application/x-amz-json-1.1, not "${contentType}".`);
    }
    const result = await service.handle(named, parseBody(raw));
    log(`${operation} 200`);
    send(response, 200, result);
  } catch (error) {
    if (error instanceof EventBridgeError) {
      log(`${operation} ${error.status} ${error.type}`);
      send(response, error.status, { __type: error.type, message: error.message }, error.status === 413);
    } else {
      logFailure(`${operation} 500 InternalException ${error instanceof Error ? (error.stack ?? error.name) : 'unknown error'}`);
      send(response, 500, { __type: 'InternalException', message: 'The local EventBridge failed to process the request.' });
    }
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        request.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolveBody(Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      if (!done) reject(error);
    });
  });
}

/** Parse failures are reported without V8's message, which quotes the input. */
function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw eventBridgeError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw eventBridgeError('SerializationException', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

function tooLarge(): EventBridgeError {
  return eventBridgeError('RequestEntityTooLargeException', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`, 413);
}

function send(response: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  if (response.headersSent) return;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  response.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': payload.length,
    'x-amzn-RequestId': randomUUID(),
    // The clock signatures are checked against: the SDK corrects its skew by it.
    Date: new Date().toUTCString(),
    ...(closeConnection ? { Connection: 'close' } : {}),
  });
  response.end(payload);
}
