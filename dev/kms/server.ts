/**
 * A local endpoint for the AWS KMS JSON 1.1 protocol, so the local stack runs the production code
 * unchanged: `@aws-sdk/client-kms` reaches it through AWS_ENDPOINT_URL_KMS and nothing in lib/ or
 * functions/ knows it is not AWS.
 *
 * Wire format, as the SDK speaks it: `POST /`, `X-Amz-Target: TrentService.<Operation>`,
 * `Content-Type: application/x-amz-json-1.1`, a JSON body with blobs in base64 and timestamps in
 * epoch seconds; failures are HTTP 400 with `{"__type": "<Exception>", "message": "..."}`.
 *
 * Plain HTTP on loopback only, and every request must carry a SigV4 signature by the stack's own
 * credential (authentication.ts): the endpoint holds every local key, so neither another machine nor
 * another local process without that credential may use it.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { isSigned, type KmsCredentials, verifySignature } from './authentication.ts';
import { KmsError, kmsError } from './errors.ts';
import { LocalKmsService } from './service.ts';
import type { Response } from './operations/context.ts';

export interface LocalKmsOptions {
  dataDir: string;
  /** The only credential whose signatures are accepted (the launcher's per-stack one). */
  credentials: KmsCredentials;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** Default 'us-east-1': appears in every ARN, and ARNs naming another region are not found. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** One line per request: operation, status, error type. Never key material, plaintext or bodies. */
  log?: (line: string) => void;
}

export interface LocalKms {
  /** e.g. http://127.0.0.1:45678: the `endpoint` of a KMSClient, or AWS_ENDPOINT_URL_KMS. */
  endpoint: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const TARGET_PREFIX = 'TrentService.';
const OPERATION_NAME = /^[A-Za-z]{1,64}$/;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;
const LOOPBACK_HOST_HEADER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)(:\d+)?$/i;

export async function startLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`local KMS: refusing to listen on ${host}; it serves loopback only`);
  const region = options.region ?? 'us-east-1';
  const { credentials } = options;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey) throw new Error('local KMS: a credential to verify signatures against is required');
  const service = await LocalKmsService.open(resolve(options.dataDir), {
    region,
    accountId: options.accountId ?? '000000000000',
  });
  const log = options.log ?? (() => undefined);
  // A 500 is a bug in this endpoint: it must be seen even when nobody asked for request logs.
  const logFailure = options.log ?? ((line: string) => process.stderr.write(`local KMS: ${line}\n`));

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
          // SDK clients keep connections alive; without this, close() waits for them to time out.
          server.closeIdleConnections();
        });
        await service.flush();
      })();
      return closing;
    },
  };
}

async function handle(
  service: LocalKmsService,
  credentials: KmsCredentials,
  request: IncomingMessage,
  response: ServerResponse,
  log: (line: string) => void,
  logFailure: (line: string) => void,
) {
  let operation = '-';
  try {
    if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
      request.resume();
      throw kmsError('UnknownOperationException', 'The local KMS answers only POST / with an X-Amz-Target header.', 404);
    }
    // Listening on loopback does not stop a web page from reaching us through DNS rebinding (its
    // own name resolving to 127.0.0.1); such a request still carries that foreign name as Host.
    if (!LOOPBACK_HOST_HEADER.test(request.headers.host ?? '')) {
      request.resume();
      throw kmsError('AccessDeniedException', 'The local KMS answers only requests addressed to a loopback host.', 403);
    }
    const declaredLength = Number(request.headers['content-length'] ?? 0);
    if (declaredLength > MAX_BODY_BYTES) throw tooLarge();
    if (!isSigned(request.headers)) {
      request.resume();
      throw kmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    // Named in the log line of a refusal too, so probing shows up there; only a plain name, never raw header text.
    const named = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    if (OPERATION_NAME.test(named)) operation = named;
    // The signature covers the body, so it is read (bounded) before anything else of the request is trusted.
    const raw = await readBody(request);
    await verifySignature({ method: request.method, url: request.url ?? '/', headers: request.headers, body: raw }, credentials);
    if (!target.startsWith(TARGET_PREFIX)) throw kmsError('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/x-amz-json-1\.[01]\b/i.test(contentType)) {
      throw kmsError('SerializationException', `Content-Type must be application/x-amz-json-1.1, not "${contentType}".`);
    }
    const body = parseBody(raw);
    const result = await service.handle(target.slice(TARGET_PREFIX.length), body);
    // Logged before answering: a caller that reads the log after its answer must find the line.
    log(`${operation} 200`);
    send(response, 200, result);
  } catch (error) {
    if (error instanceof KmsError) {
      log(`${operation} ${error.status} ${error.type}`);
      send(response, error.status, { __type: error.type, message: error.message }, error.status === 413);
    } else {
      // An unexpected failure is a bug here. Its stack names code, not data: no request content
      // reaches an exception message on this path (JSON parse errors are caught in parseBody).
      logFailure(`${operation} 500 KMSInternalException ${error instanceof Error ? (error.stack ?? error.name) : 'unknown error'}`);
      send(response, 500, { __type: 'KMSInternalException', message: 'The local KMS failed to process the request.' });
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
        // A chunked body that grows past the limit: answer now and stop buffering.
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

/** Parse failures are reported without their message: V8 quotes the input, which may be plaintext. */
function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw kmsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw kmsError('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function tooLarge(): KmsError {
  return kmsError('RequestEntityTooLargeException', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`, 413);
}

function send(response: ServerResponse, status: number, body: Response, closeConnection = false): void {
  if (response.headersSent) return;
  const payload = Buffer.from(JSON.stringify(toWire(body)), 'utf8');
  response.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': payload.length,
    'x-amzn-RequestId': randomUUID(),
    // The clock signatures are checked against (Node's own Date header is cached): the SDK corrects
    // its signing time by this header after a skew refusal, so it must be the same clock.
    Date: new Date().toUTCString(),
    ...(closeConnection ? { Connection: 'close' } : {}),
  });
  response.end(payload);
}

/** Buffers are blobs, which JSON 1.1 carries as base64 strings. */
function toWire(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toWire(entry)]));
  }
  return value;
}
