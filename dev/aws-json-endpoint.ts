/**
 * The local stack's AWS endpoints (the local KMS, the local EventBridge) speak the AWS JSON 1.1
 * protocol the same way, so the production code reaches them unchanged through
 * `AWS_ENDPOINT_URL_<SERVICE>`: `POST /`, `X-Amz-Target: <prefix>.<Operation>`, `Content-Type:
 * application/x-amz-json-1.1`, a JSON body; failures are `{"__type": "<Exception>", "message": "..."}`.
 *
 * This is that shared front: plain HTTP on loopback only, requests addressed to a loopback host only
 * (DNS rebinding: a web page's own name resolving to 127.0.0.1 still carries that name as Host),
 * bodies bounded, and every request signed with SigV4 by the stack's own credential (dev/sigv4.ts)
 * before anything of it is trusted. Each service brings its operations and its own error class.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Credentials, isSigned, type SignatureRefusal, verifySigV4 } from './sigv4.ts';

/** The refusals this front answers itself, in every service's exception names. */
type FrontRefusal =
  | SignatureRefusal
  | 'AccessDeniedException'
  | 'MissingAuthenticationTokenException'
  | 'RequestEntityTooLargeException'
  | 'SerializationException'
  | 'UnknownOperationException';

/** A service's answered failure: its exception name, message and HTTP status. */
export interface ServiceFailure extends Error {
  readonly type: string;
  readonly status: number;
}

export interface AwsJsonEndpointOptions {
  /** How answers and logs name it: `local KMS`. */
  name: string;
  /** `TrentService.`, `AWSEvents.` */
  targetPrefix: string;
  /** The SigV4 service name requests must be scoped to: `kms`, `events`. */
  signingService: string;
  /** The only credential whose signatures are accepted (the launcher's per-stack one). */
  credentials: Credentials;
  /** The service's own error, for the refusals this front answers. */
  refuse: (type: FrontRefusal, message: string, status?: number) => ServiceFailure;
  /** Whether an error is one the service answers (anything else is a 500, a bug of the endpoint). */
  isServiceFailure: (error: unknown) => error is ServiceFailure;
  /** The status the service answers an unsigned request with (AWS's services differ: KMS 400, EventBridge 403). */
  unsignedStatus: number;
  /** The service's internal-failure exception name: `KMSInternalException`, `InternalException`. */
  internalErrorType: string;
  handle: (operation: string, body: Record<string, unknown>) => unknown;
  /** The answer's JSON form, where the service's values need one (KMS's blobs as base64). */
  toWire?: (body: unknown) => unknown;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** One line per request: operation, status, error type. Never bodies. */
  log?: (line: string) => void;
  /** After the listener closed: what the service still has to finish. */
  onClose?: () => Promise<void>;
}

export interface AwsJsonEndpoint {
  /** e.g. http://127.0.0.1:45678 */
  endpoint: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const OPERATION_NAME = /^[A-Za-z]{1,64}$/;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;
const LOOPBACK_HOST_HEADER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)(:\d+)?$/i;

export async function startAwsJsonEndpoint(options: AwsJsonEndpointOptions): Promise<AwsJsonEndpoint> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`${options.name}: refusing to listen on ${host}; it serves loopback only`);
  const { credentials } = options;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey) {
    throw new Error(`${options.name}: a credential to verify signatures against is required`);
  }
  const log = options.log ?? (() => undefined);
  // A 500 is a bug in this endpoint: it must be seen even when nobody asked for request logs.
  const logFailure = options.log ?? ((line: string) => process.stderr.write(`${options.name}: ${line}\n`));
  const server = createServer((request, response) => {
    void handle(options, request, response, log, logFailure);
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
        await options.onClose?.();
      })();
      return closing;
    },
  };
}

async function handle(
  options: AwsJsonEndpointOptions,
  request: IncomingMessage,
  response: ServerResponse,
  log: (line: string) => void,
  logFailure: (line: string) => void,
) {
  const { name, targetPrefix, refuse } = options;
  const tooLarge = () => refuse('RequestEntityTooLargeException', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`, 413);
  let operation = '-';
  try {
    if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
      request.resume();
      throw refuse('UnknownOperationException', `The ${name} answers only POST / with an X-Amz-Target header.`, 404);
    }
    if (!LOOPBACK_HOST_HEADER.test(request.headers.host ?? '')) {
      request.resume();
      throw refuse('AccessDeniedException', `The ${name} answers only requests addressed to a loopback host.`, 403);
    }
    if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
    if (!isSigned(request.headers)) {
      request.resume();
      throw refuse('MissingAuthenticationTokenException', 'Missing Authentication Token', options.unsignedStatus);
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    // Named in the log line of a refusal too, so probing shows up there; only a plain name, never raw header text.
    const named = target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : '';
    if (OPERATION_NAME.test(named)) operation = named;
    // The signature covers the body, so it is read (bounded) before anything else of the request is trusted.
    const raw = await readBody(request, tooLarge);
    await verifySigV4({ method: request.method, url: request.url ?? '/', headers: request.headers, body: raw }, options.credentials, {
      service: options.signingService,
      refuse,
    });
    if (!target.startsWith(targetPrefix)) throw refuse('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/x-amz-json-1\.[01]\b/i.test(contentType)) {
      throw refuse('SerializationException', `Content-Type must be application/x-amz-json-1.1, not "${contentType}".`);
    }
    const result = await options.handle(named, parseBody(raw, refuse));
    // Logged before answering: a caller that reads the log after its answer must find the line.
    log(`${operation} 200`);
    send(response, 200, options.toWire ? options.toWire(result) : result);
  } catch (error) {
    if (options.isServiceFailure(error)) {
      log(`${operation} ${error.status} ${error.type}`);
      send(response, error.status, { __type: error.type, message: error.message }, error.status === 413);
    } else {
      // An unexpected failure is a bug here. Its stack names code, not data: no request content
      // reaches an exception message on this path (JSON parse errors are caught in parseBody).
      logFailure(`${operation} 500 ${options.internalErrorType} ${error instanceof Error ? (error.stack ?? error.name) : 'unknown error'}`);
      send(response, 500, { __type: options.internalErrorType, message: `The ${name} failed to process the request.` });
    }
  }
}

function readBody(request: IncomingMessage, tooLarge: () => Error): Promise<Buffer> {
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
function parseBody(raw: Buffer, refuse: AwsJsonEndpointOptions['refuse']): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw refuse('SerializationException', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw refuse('SerializationException', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function send(response: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  if (response.headersSent) return;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
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
