import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MethodNotAllowed, NotFound, PayloadTooLarge, type VaultError } from '#lib/core/errors';
import { matchRoute, type Route, routes } from '#lib/http/routes';
import { type LambdaHandler, lambdaContext, lambdaEvent } from './lambda-event.ts';

/**
 * The local HTTPS gateway: what API Gateway (HTTP API, payload format 2.0) does in AWS. It matches
 * the request against the shared route table, builds the same event API Gateway would, and invokes
 * the same per-operation handler module that serverless.yml deploys.
 */
type Handler = LambdaHandler;

/** API Gateway's own payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

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
}

export interface Gateway {
  port: number;
  managementPort: number;
  vaultEndpointPorts: number[];
  close(): Promise<void>;
}

/** Which routes a listener serves: the management listener the management plane, the others the rest. */
type Serves = (route: Route) => boolean;
const managementPlane: Serves = (route) => route.plane === 'management';
const dataPlanes: Serves = (route) => route.plane !== 'management';

async function loadHandlers(): Promise<Map<Route, Handler>> {
  const handlers = new Map<Route, Handler>();
  for (const route of routes) {
    const module = (await import(`../functions/${route.handler}.ts`)) as { handler: Handler };
    handlers.set(route, module.handler);
  }
  return handlers;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handlers = await loadHandlers();
  const listeners: Server[] = [];
  const close = () => Promise.all(listeners.map(closeServer)).then(() => undefined);
  const open = async (port: number, serves: Serves) => {
    const server = await listen(options, port, handlers, serves);
    listeners.push(server);
    return (server.address() as AddressInfo).port;
  };
  try {
    const port = await open(options.port, dataPlanes);
    const managementPort = await open(options.managementPort, managementPlane);
    const vaultEndpointPorts: number[] = [];
    for (const endpointPort of options.vaultEndpointPorts ?? []) vaultEndpointPorts.push(await open(endpointPort, dataPlanes));
    return { port, managementPort, vaultEndpointPorts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listen(options: GatewayOptions, port: number, handlers: Map<Route, Handler>, serves: Serves): Promise<Server> {
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(handlers, serves, req, res).catch((error: unknown) => {
      // The handlers answer every error themselves; reaching here is a gateway bug.
      console.error('gateway failure', error instanceof Error ? error.message : String(error));
      if (!res.headersSent) send(res, { statusCode: 500, body: JSON.stringify({ error: { code: 'InternalError', message: 'Gateway failure.' } }) });
      else res.destroy();
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

async function handle(handlers: Map<Route, Handler>, serves: Serves, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // ARM clients join their endpoint and a scope that starts with `/` (`.../{scope}/providers/...`),
  // sending `//subscriptions/...`, which ARM accepts; read as a URL it would name a host.
  const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), 'https://placeholder');
  const method = (req.method ?? 'GET').toUpperCase();
  const { match, pathExists } = matchRoute(method, url.pathname, serves);
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    return sendError(res, error as VaultError);
  }
  if (!match) {
    return sendError(res, pathExists ? new MethodNotAllowed(method) : new NotFound('NotFound', 'The requested resource was not found.'));
  }
  const handler = handlers.get(match.route)!;
  const event = lambdaEvent({
    method,
    url: `${url.pathname}${url.search}`,
    // The Host header as the client sent it, port included: the vault directory finds a vault by the
    // endpoint it claimed (`localhost:<port>`) as well as by its name (lib/vaults/directory.ts).
    headers: { host: 'localhost', ...req.headers },
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    protocol: `HTTP/${req.httpVersion}`,
    match,
  });
  const result = await handler(event, lambdaContext(match.route.operation));
  send(res, result);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) {
        reject(new PayloadTooLarge('The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'Content-Length': String(body.length) });
  res.end(body);
}

function sendError(res: ServerResponse, error: VaultError): void {
  send(res, {
    statusCode: error.status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...error.headers },
    body: JSON.stringify(error.toBody()),
  });
}
