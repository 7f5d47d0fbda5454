import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MethodNotAllowed, NotFound, PayloadTooLarge, type VaultError } from '#lib/core/errors';
import { matchRoute, type Route, routeKey, routes } from '#lib/http/routes';

/**
 * The local HTTPS gateway: what API Gateway (HTTP API, payload format 2.0) does in AWS. It matches
 * the request against the shared route table, builds the same event API Gateway would, and invokes
 * the same per-operation handler module that serverless.yml deploys.
 */
type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface GatewayOptions {
  tls: { certPem: string; keyPem: string };
  port: number;
  host?: string;
}

export interface Gateway {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function loadHandlers(): Promise<Map<Route, Handler>> {
  const handlers = new Map<Route, Handler>();
  for (const route of routes) {
    const module = (await import(`../functions/${route.handler}.ts`)) as { handler: Handler };
    handlers.set(route, module.handler);
  }
  return handlers;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handlers = await loadHandlers();
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    handle(handlers, req, res).catch((error: unknown) => {
      // The handlers answer every error themselves; reaching here is a gateway bug.
      console.error('gateway failure', error instanceof Error ? error.message : String(error));
      if (!res.headersSent) send(res, { statusCode: 500, body: JSON.stringify({ error: { code: 'InternalError', message: 'Gateway failure.' } }) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(handlers: Map<Route, Handler>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://placeholder');
  const method = (req.method ?? 'GET').toUpperCase();
  const { match, pathExists } = matchRoute(method, url.pathname);
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
  const event = toEvent(req, url, match.route, match.pathParameters, body);
  const result = await handler(event, lambdaContext(match.route));
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

/** The event API Gateway's HTTP API sends with payload format 2.0. */
function toEvent(req: IncomingMessage, url: URL, route: Route, pathParameters: Record<string, string>, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    // API Gateway joins repeated query parameters with commas.
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const now = new Date();
  const host = headers.host ?? 'localhost';
  const contentType = headers['content-type'] ?? '';
  const textual = body.length === 0 || /json|text|xml|x-www-form-urlencoded/i.test(contentType) || contentType === '';
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: host.replace(/:\d+$/, ''),
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: routeKey(route),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

function lambdaContext(route: Route): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `coffer-local-${route.operation}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:coffer-local-${route.operation}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/coffer-local-${route.operation}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
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
