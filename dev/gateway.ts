import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type AuditRecord, auditPartition } from '#lib/audit/audit';
import { BadParameter, NotFound, PayloadTooLarge, ServiceUnavailable, VaultError } from '#lib/core/errors';
import { echoableRequestId } from '#lib/http/middleware/respond';
import { matchingRoute, resolveRoute } from '#lib/http/middleware/unmatched';
import { limitKind, type VaultRateLimiter } from '#lib/http/middleware/vault-limits';
import { localRoutes, type Route } from '#lib/http/routes';
import type { PipelineServices } from '#lib/http/services';
import { config } from '#lib/runtime/config';
import { servesPool } from '#lib/runtime/hsm';
import { poolExists } from '#lib/runtime/pool-management';
import { pipelineServices, storedVault } from '#lib/runtime/services';
import { type Vault, vaultResourceId } from '#lib/vaults/vault';
import { type LambdaHandler, lambdaContext, lambdaEvent } from './lambda-event.ts';
import { runScheduledWorkNow } from './scheduler-timer.ts';
import { answerTimeShift, isLocalControlPath, type TimeShiftRequest, type TimeShiftSeen, type TimeShiftSettings } from './time-shift.ts';
import { SERVER_TLS_POLICY } from './tls-policy.ts';

/**
 * The local HTTPS gateway: what API Gateway (HTTP API, payload format 2.0) does in AWS. It matches
 * the request against the shared route table, builds the same event API Gateway would, and invokes
 * the same per-operation handler module that serverless.yml deploys.
 *
 * What it refuses before any handler (no route, wrong method, bad path encoding, a body, header block
 * or URL over its limits, a request that is not HTTP) it answers in Azure's error shape and audits
 * like a handler does: one record in the same audit stream, so route probing is visible.
 */
type Handler = LambdaHandler;

/** API Gateway's own payload limit for HTTP APIs (the handlers refuse bodies over 1 MiB themselves). */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/**
 * After the limit the body is still read, and dropped, so that the 413 reaches a client that is busy
 * sending (closing on unread data would reset the connection, and the client might never read the
 * answer); a client that sends this much more is cut off instead.
 */
const MAX_DISCARDED_BYTES = 4 * MAX_PAYLOAD_BYTES;
/** The request line and headers together: Node's default limit, stated so it is one of ours. */
const MAX_HEADER_BYTES = 16 * 1024;
/** A URL longer than this is refused with 414. */
const MAX_URL_BYTES = 8 * 1024;
/**
 * What Node's HTTP parser takes before it gives up. Above the limits themselves, so that a request
 * over them is still parsed and the answer can tell a long URL (414) from long headers (431) and name
 * the vault the host names; beyond this the parser's refusal is answered instead (clientError).
 */
const PARSER_HEADER_BYTES = 4 * MAX_HEADER_BYTES;
/** What an audit record keeps of a refused URL: a 414's URL is not worth 16 KiB of audit storage. */
const MAX_AUDITED_PATH = 2048;
/** How long a connection refused at the HTTP level stays open for the client to read the answer. */
const LINGER_MS = 2_000;

/** The audit operation of a request refused before any route was chosen. */
const UNKNOWN_OPERATION = 'Unknown';

export interface GatewayOptions {
  tls: { certPem: string; keyPem: string };
  /** The data plane: the default vault at `localhost`, every vault at `<name>.<vault domain>`. */
  port: number;
  /** The management plane (`plane: 'management'` routes), on a port of its own as on a host of its own in AWS. */
  managementPort: number;
  /**
   * The vault endpoint pool (config.ts `vaultEndpoints`): more data-plane listeners, each of which a
   * vault claims when it is created, so that clients reach it where `*.localhost` does not resolve.
   */
  vaultEndpointPorts?: readonly number[];
  host?: string;
  /**
   * Where the gateway's own refusals are audited and which vault a host names: by default the
   * handlers' own shared services, so the records join the same stream (standard output) and a
   * strict vault's go to the audit store as the handlers' do.
   */
  services?: () => Pick<PipelineServices, 'vaults' | 'audit' | 'subscriptions'>;
  /**
   * The scheduler's run: the time shift runs it after every advance and answers when it is done. By
   * default the local scheduler's (dev/scheduler-timer.ts `runScheduledWorkNow`), which waits for a
   * run under way first.
   */
  runScheduledWork?: () => Promise<void>;
  /**
   * The time shift's settings (dev/time-shift.ts): by default the handlers' own configuration (its
   * offsets file and local administrator), authenticator and vault directory, read per request.
   */
  timeShift?: () => TimeShiftSettings;
  /**
   * The documented per-vault limits (lib/http/middleware/vault-limits.ts), counted by vault host on
   * the data plane and answered with Azure's 429 and Retry-After. Off unless given: the test suite's
   * shared stack creates keys faster than Azure allows, with its clients' retries off.
   */
  vaultLimits?: VaultRateLimiter;
}

export interface Gateway {
  port: number;
  managementPort: number;
  vaultEndpointPorts: number[];
  close(): Promise<void>;
}

/** Which routes a listener serves: the management listener the management plane, the others the rest. */
interface Listener {
  plane: 'data' | 'management';
  serves: (route: Route) => boolean;
  handlers: Map<Route, Handler>;
  services: NonNullable<GatewayOptions['services']>;
  timeShift: NonNullable<GatewayOptions['timeShift']>;
  limiter?: VaultRateLimiter;
}
const servesManagement = (route: Route) => route.plane === 'management';
const servesData = (route: Route) => route.plane !== 'management';
const servesManagedHsm = (route: Route) => route.plane === 'managedHsm';

async function loadHandlers(): Promise<Map<Route, Handler>> {
  const handlers = new Map<Route, Handler>();
  for (const route of localRoutes) {
    // Family and file apart: a bundler that resolves the import ahead (vitest's, when a test runs the
    // gateway in its own process) matches `functions/*/*.ts`, and a variable may name one level only.
    const [family, file] = route.handler.split('/');
    const module = (await import(`../functions/${family}/${file}.ts`)) as { handler: Handler };
    handlers.set(route, module.handler);
  }
  return handlers;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handlers = await loadHandlers();
  const services = options.services ?? pipelineServices;
  const timeShift =
    options.timeShift ??
    (() => ({
      offsetsFile: config().clockOffsetsFile,
      authenticator: pipelineServices().authenticator,
      administrators: config().tenantAdministrators,
      vaultExists: async (name: string) => (await storedVault(name)) !== undefined,
      poolExists,
      runScheduledWork: options.runScheduledWork ?? runScheduledWorkNow,
    }));
  // One count for all data listeners: a vault's requests reach it on its name's host or its own endpoint.
  const limiter = options.vaultLimits;
  const servers: Server[] = [];
  const close = () => Promise.all(servers.map(closeServer)).then(() => undefined);
  const open = async (port: number, plane: Listener['plane']) => {
    const listener = { plane, serves: plane === 'management' ? servesManagement : servesData, handlers, services, timeShift, limiter };
    const server = await listen(options, port, listener);
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  try {
    const port = await open(options.port, 'data');
    const managementPort = await open(options.managementPort, 'management');
    const vaultEndpointPorts: number[] = [];
    for (const endpointPort of options.vaultEndpointPorts ?? []) vaultEndpointPorts.push(await open(endpointPort, 'data'));
    return { port, managementPort, vaultEndpointPorts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listen(options: GatewayOptions, port: number, listener: Listener): Promise<Server> {
  const server = createServer(
    { cert: options.tls.certPem, key: options.tls.keyPem, ...SERVER_TLS_POLICY, maxHeaderSize: PARSER_HEADER_BYTES },
    (req, res) => {
      handle(listener, req, res).catch((error: unknown) => {
        // The handlers answer every error themselves; reaching here is a gateway bug.
        console.error('gateway failure', error instanceof Error ? error.message : String(error));
        if (!res.headersSent) send(res, { statusCode: 500, body: JSON.stringify({ error: { code: 'InternalError', message: 'Gateway failure.' } }) });
        else res.destroy();
      });
    },
  );
  // Node answers what its HTTP parser refuses with a bare status line; Azure's shape, audited, instead.
  server.on('clientError', (error: ParserError, socket: Duplex) => {
    refuseMalformed(listener, error, socket).catch((failure: unknown) => {
      console.error('gateway failure', failure instanceof Error ? failure.message : String(failure));
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function handle(listener: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = Date.now();
  // ARM clients join their endpoint and a scope that starts with `/` (`.../{scope}/providers/...`),
  // sending `//subscriptions/...`, which ARM accepts; read as a URL it would name a host.
  const rawUrl = (req.url ?? '/').replace(/^\/{2,}/, '/');
  const url = new URL(rawUrl, 'https://placeholder');
  const method = (req.method ?? 'GET').toUpperCase();
  // The same rule as API Gateway's `$default` function (lib/http/middleware/unmatched.ts): one matching, one 404/405.
  let resolution = resolveRoute(method, url.pathname, listener.serves, localRoutes);
  // A pool's keys have a vault's paths (docs/adr/0024): on a pool's host its own rows win.
  if (resolution.match?.route.plane === 'data') {
    const poolRow = matchingRoute(method, url.pathname, servesManagedHsm, localRoutes);
    if (poolRow && (await servesPool(headerOf(req, 'host')))) resolution = { match: poolRow };
  }
  const match = resolution.match;
  const body = await readBody(req);
  const refusal = (error: VaultError, operation = UNKNOWN_OPERATION) => ({
    error,
    operation,
    startedAt,
    path: url.pathname,
    apiVersion: url.searchParams.get('api-version') ?? undefined,
    host: headerOf(req, 'host'),
    correlationId: headerOf(req, 'x-ms-client-request-id'),
    userAgent: headerOf(req, 'user-agent'),
    sourceIp: req.socket.remoteAddress,
  });
  if (body.kind === 'tooLarge') {
    const answer = await audited(listener, refusal(new PayloadTooLarge('The request body is too large.'), match?.route.audit));
    // Cut off mid-body: there is no one left to answer.
    if (!body.cutOff) sendError(res, answer.error, answer.requestId, correlationOf(req), { close: true });
    return;
  }
  // The local stack's own controls, on every listener, where the configuration enables them; elsewhere
  // they are paths like any other that no route has (404).
  const timeShift = isLocalControlPath(url.pathname) ? listener.timeShift() : undefined;
  if (timeShift?.offsetsFile) {
    const request = { method, path: url.pathname, authorization: headerOf(req, 'authorization'), body: body.bytes };
    return answerLocalControl(listener, req, res, startedAt, { ...timeShift, offsetsFile: timeShift.offsetsFile }, request);
  }
  let refused: VaultError | undefined;
  if (Buffer.byteLength(req.url ?? '') > MAX_URL_BYTES) refused = uriTooLong();
  else if (headBytes(req) > MAX_HEADER_BYTES) refused = headersTooLarge();
  else if (!percentEncodingValid(url.pathname)) refused = new BadParameter('The request path is not valid percent-encoded UTF-8.');
  else if (!match) refused = resolution.refusal;
  if (refused || !match) {
    const answer = await audited(listener, refusal(refused ?? new NotFound('NotFound', 'The requested resource was not found.')));
    return sendError(res, answer.error, answer.requestId, correlationOf(req));
  }
  // A request without a token is the SDKs' challenge round trip (answered 401 at once): not counted.
  if (listener.plane === 'data' && listener.limiter && headerOf(req, 'authorization')) {
    const kind = limitKind(match.route, match.route.operation === 'CreateKey' ? body.bytes.toString('utf8') : undefined);
    try {
      listener.limiter.take((headerOf(req, 'host') ?? 'localhost').toLowerCase(), kind);
    } catch (error) {
      const answer = await audited(listener, refusal(error as VaultError, match.route.audit));
      return sendError(res, answer.error, answer.requestId, correlationOf(req));
    }
  }
  const handler = listener.handlers.get(match.route)!;
  const event = lambdaEvent({
    method,
    url: `${url.pathname}${url.search}`,
    // The Host header as the client sent it, port included: the vault directory finds a vault by the
    // endpoint it claimed (`localhost:<port>`) as well as by its name (lib/vaults/directory.ts).
    headers: { host: 'localhost', ...req.headers },
    body: body.bytes,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    protocol: `HTTP/${req.httpVersion}`,
    match,
  });
  const result = await handler(event, lambdaContext(match.route.operation));
  send(res, result);
}

/**
 * The time shift's answer, audited like any request, the caller named once known: an advance in the
 * records of the vault it moved (`*`, a refusal or a listing: about no vault), as the handlers audit.
 */
async function answerLocalControl(
  listener: Listener,
  req: IncomingMessage,
  res: ServerResponse,
  startedAt: number,
  settings: TimeShiftSettings & { offsetsFile: string },
  request: TimeShiftRequest,
): Promise<void> {
  const seen: TimeShiftSeen = {};
  let body: unknown;
  let failure: VaultError | undefined;
  try {
    body = await answerTimeShift(settings, request, seen);
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    failure = error;
  }
  const status = failure?.status ?? 200;
  const requestId = randomUUID();
  const services = listener.services();
  const vaultName = !failure && seen.vault && seen.vault !== '*' ? seen.vault : undefined;
  const { principal } = seen;
  try {
    const vault = vaultName ? await services.vaults.get(vaultName) : undefined;
    const record: AuditRecord = {
      time: new Date(startedAt).toISOString(),
      vault: auditPartition(vaultName, undefined),
      tenantId: vault?.tenantId,
      resourceId: vault?.subscriptionId && vault.resourceGroup ? vaultResourceId(vault) : undefined,
      requestId,
      operationName: seen.operation ?? UNKNOWN_OPERATION,
      category: 'AuditEvent',
      resultType: failure ? 'Failure' : 'Success',
      resultSignature: failure?.code ?? 'OK',
      resultDescription: failure?.innerCode,
      httpStatusCode: status,
      durationMs: Date.now() - startedAt,
      callerIpAddress: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
      correlationId: correlationOf(req),
      identity: principal ? { oid: principal.objectId, appid: principal.appId, upn: principal.upn, tid: principal.tenantId } : undefined,
      requestUri: `https://${headerOf(req, 'host') ?? 'localhost'}${request.path.slice(0, MAX_AUDITED_PATH)}`,
      clientInfo: headerOf(req, 'user-agent'),
    };
    await services.audit.write(record, { strict: vault?.strictAudit === true });
  } catch (error) {
    console.error('gateway audit write failed', error instanceof Error ? error.message : String(error));
    failure = new ServiceUnavailable('The audit log is unavailable; the request was not completed.');
  }
  if (failure) return sendError(res, failure, requestId, correlationOf(req));
  sendJson(res, 200, body, requestId, correlationOf(req));
}

/** The request head as received: request line and header lines with their line ends. */
function headBytes(req: IncomingMessage): number {
  let size = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length + 2;
  for (let i = 0; i < req.rawHeaders.length; i += 2) size += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`.length;
  return size;
}

const uriTooLong = () => new VaultError(414, 'RequestUriTooLong', 'The request URL is too long.');
const headersTooLarge = () => new VaultError(431, 'RequestHeaderFieldsTooLarge', 'The request headers are too large.');

/** Every segment decodes (`%zz` or `%C3%28` does not), as the handlers' path parameters must. */
function percentEncodingValid(path: string): boolean {
  return path.split('/').every((segment) => {
    try {
      decodeURIComponent(segment);
      return true;
    } catch {
      return false;
    }
  });
}

type Body = { kind: 'complete'; bytes: Buffer } | { kind: 'tooLarge'; cutOff: boolean };

function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES + MAX_DISCARDED_BYTES) {
        req.socket.destroy();
        resolve({ kind: 'tooLarge', cutOff: true });
        return;
      }
      if (size > MAX_PAYLOAD_BYTES) chunks = [];
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? { kind: 'tooLarge', cutOff: false } : { kind: 'complete', bytes: Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------
// Requests Node's HTTP parser refuses

type ParserError = NodeJS.ErrnoException & { rawPacket?: Buffer };

async function refuseMalformed(listener: Listener, error: ParserError, socket: Duplex): Promise<void> {
  // A connection the client reset, or one already answering a request, has nothing to answer.
  const busy = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  const seen = readRawRequest(error.rawPacket);
  const refusal = {
    error: parserRefusal(error, seen),
    operation: UNKNOWN_OPERATION,
    startedAt: Date.now(),
    path: seen.path ?? '/',
    host: seen.host,
    sourceIp: (socket as Duplex & { remoteAddress?: string }).remoteAddress,
  };
  const answer = await audited(listener, refusal);
  if (!socket.writable) return;
  socket.end(rawAnswer(answer.error, answer.requestId));
  // The client may still be sending the rest of what was refused: read and drop it for a moment, so
  // the close that follows is clean and the client gets to read the answer.
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function parserRefusal(error: ParserError, seen: RawRequest): VaultError {
  if (error.code === 'HPE_HEADER_OVERFLOW') return seen.requestLineComplete ? headersTooLarge() : uriTooLong();
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new VaultError(408, 'RequestTimeout', 'The request was not received in time.');
  return new BadParameter('The request is not valid HTTP.');
}

interface RawRequest {
  path?: string;
  host?: string;
  /**
   * False when the bytes begin a request whose request line alone filled the parser's limit. The
   * parser hands over only the chunk it stopped in: a URL that spans several chunks reads as headers.
   */
  requestLineComplete: boolean;
}

/**
 * What can be read of a refused request from the bytes the parser stopped at (its current buffer,
 * usually the whole request head): the path and Host for the audit record. Nothing here is trusted
 * beyond naming the record's partition the way a handler would.
 */
function readRawRequest(packet: Buffer | undefined): RawRequest {
  const text = packet?.toString('latin1') ?? '';
  const start = /^[A-Z]+ (\S*)/.exec(text);
  const lineEnd = text.indexOf('\r\n');
  const host = /\r\nhost:[ \t]*([^\r\n]*)\r\n/i.exec(text)?.[1]?.trim();
  return {
    path: start?.[1] ? start[1].split('?')[0] : undefined,
    host: host && /^[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ? host : undefined,
    requestLineComplete: !(start && lineEnd === -1),
  };
}

function rawAnswer(error: VaultError, requestId: string): string {
  const body = JSON.stringify(error.toBody());
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(standardHeaders(requestId)).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

// ---------------------------------------------------------------------------------------
// Auditing the gateway's refusals

interface Refusal {
  error: VaultError;
  operation: string;
  startedAt: number;
  path: string;
  apiVersion?: string;
  host?: string;
  correlationId?: string;
  userAgent?: string;
  sourceIp?: string;
}

/**
 * Writes the refusal's record, as the handlers' respond middleware does, and answers what to send:
 * the refusal, or a 503 when the record could not be handed over (nothing leaves unaudited).
 */
async function audited(listener: Listener, refusal: Refusal): Promise<{ error: VaultError; requestId: string }> {
  const requestId = randomUUID();
  const services = listener.services();
  try {
    const { record, vault } = await refusalRecord(services, listener.plane, refusal, requestId);
    await services.audit.write(record, { strict: vault?.strictAudit === true });
    return { error: refusal.error, requestId };
  } catch (error) {
    console.error('gateway audit write failed', error instanceof Error ? error.message : String(error));
    return { error: new ServiceUnavailable('The audit log is unavailable; the request was not completed.'), requestId };
  }
}

async function refusalRecord(
  services: Pick<PipelineServices, 'vaults' | 'subscriptions'>,
  plane: Listener['plane'],
  refusal: Refusal,
  requestId: string,
): Promise<{ record: AuditRecord; vault?: Vault }> {
  const { error } = refusal;
  // The partition the handlers would choose: on the data plane the live vault the host names; on the
  // management plane the deployment's subscription the path names, never a vault (a refused request
  // stays out of a vault's records); otherwise no vault at all (`_unresolved`).
  let vault: Vault | undefined;
  let resourceId: string | undefined;
  let tenantId: string | undefined;
  if (plane === 'data') {
    // No vault there (404), or its record unreadable now: the record is about no vault.
    vault = await services.vaults.resolve(refusal.host ?? 'localhost').catch(() => undefined);
    if (vault) {
      tenantId = vault.tenantId;
      if (vault.subscriptionId && vault.resourceGroup) resourceId = vaultResourceId(vault);
    }
  } else {
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(refusal.path)?.[1];
    tenantId = subscription ? services.subscriptions.tenantOf(subscription) : undefined;
    if (subscription && tenantId) resourceId = `/subscriptions/${subscription.toLowerCase()}`;
  }
  const path = refusal.path.length > MAX_AUDITED_PATH ? `${refusal.path.slice(0, MAX_AUDITED_PATH)}...` : refusal.path;
  const record: AuditRecord = {
    time: new Date(refusal.startedAt).toISOString(),
    vault: auditPartition(vault?.name, resourceId),
    tenantId,
    resourceId,
    requestId,
    operationName: refusal.operation,
    operationVersion: refusal.apiVersion,
    category: 'AuditEvent',
    resultType: 'Failure',
    resultSignature: error.code,
    resultDescription: error.innerCode,
    httpStatusCode: error.status,
    durationMs: Date.now() - refusal.startedAt,
    callerIpAddress: refusal.sourceIp?.replace(/^::ffff:/, ''),
    correlationId: refusal.correlationId,
    requestUri: `https://${refusal.host ?? 'localhost'}${path}`,
    clientInfo: refusal.userAgent,
  };
  return { record, vault };
}

// ---------------------------------------------------------------------------------------
// Answers

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The caller's request id, echoed as the handlers echo it: within their bound (lib/http/middleware/respond.ts). */
function correlationOf(req: IncomingMessage): string | undefined {
  return echoableRequestId(headerOf(req, 'x-ms-client-request-id'));
}

/** The headers the handlers put on every answer (lib/http/middleware/respond.ts), for the gateway's own. */
function standardHeaders(requestId: string): Record<string, string> {
  return {
    'Cache-Control': 'no-cache',
    Pragma: 'no-cache',
    Expires: '-1',
    'X-Content-Type-Options': 'nosniff',
    'Strict-Transport-Security': 'max-age=31536000;includeSubDomains',
    'x-ms-request-id': requestId,
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'Content-Length': String(body.length) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, correlationId: string | undefined): void {
  send(res, {
    statusCode: status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      ...standardHeaders(requestId),
      ...(correlationId ? { 'x-ms-client-request-id': correlationId } : {}),
    },
    body: JSON.stringify(body),
  });
}

function sendError(
  res: ServerResponse,
  error: VaultError,
  requestId: string,
  correlationId: string | undefined,
  options: { close?: boolean } = {},
): void {
  send(res, {
    statusCode: error.status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      ...standardHeaders(requestId),
      ...(correlationId ? { 'x-ms-client-request-id': correlationId } : {}),
      // A client that sent this much will likely send more: answer, then close the connection.
      ...(options.close ? { Connection: 'close' } : {}),
      ...error.headers,
    },
    body: JSON.stringify(error.toBody()),
  });
}
