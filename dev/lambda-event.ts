import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { matchRoute, type Route, routeKey } from '#lib/http/routes';

/**
 * The one builder of what API Gateway (HTTP API, payload format 2.0) and Lambda hand a function: the
 * local gateway, the benchmarks and the tests that call handlers in-process all build their events
 * here, so a handler sees the same event wherever it runs.
 */
export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpRequest {
  method: string;
  /** Path with an optional query string, e.g. `/secrets/db?api-version=7.6`, or a whole URL. */
  url: string;
  /** Header names in any case; they reach the event lowercased, as API Gateway sends them. */
  headers?: Record<string, string | string[] | undefined>;
  body?: Buffer | string;
  sourceIp?: string;
  protocol?: string;
  /** The route and path parameters, when the caller matched already (the gateway does). */
  match?: { route: Route; pathParameters: Record<string, string> };
}

export function lambdaEvent(request: HttpRequest): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'https://localhost');
  const method = request.method.toUpperCase();
  const match = request.match ?? matchRoute(method, url.pathname).match;
  if (!match) throw new Error(`no route for ${method} ${url.pathname}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  headers.host ??= url.host;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    // API Gateway joins repeated query parameters with commas.
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : (request.body ?? Buffer.alloc(0));
  const contentType = headers['content-type'] ?? '';
  // API Gateway passes text through and base64-encodes everything else.
  const textual = body.length === 0 || contentType === '' || /json|text|xml|x-www-form-urlencoded/i.test(contentType);
  const host = headers.host;
  const now = new Date();
  const key = routeKey(match.route);
  // Built in order rather than with conditional spreads, each of which made and copied an object: the
  // local gateway builds one of these per request. The keys come in the same order as before.
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
  } as APIGatewayProxyEventV2;
  if (Object.keys(query).length) event.queryStringParameters = query;
  if (Object.keys(match.pathParameters).length) event.pathParameters = match.pathParameters;
  event.requestContext = {
    accountId: '000000000000',
    apiId: 'local',
    domainName: host.replace(/:\d+$/, ''),
    domainPrefix: host.split('.')[0] ?? host,
    http: {
      method,
      path: url.pathname,
      protocol: request.protocol ?? 'HTTP/1.1',
      sourceIp: (request.sourceIp ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: randomUUID(),
    routeKey: key,
    stage: '$default',
    time: now.toUTCString(),
    timeEpoch: now.getTime(),
  };
  if (body.length) event.body = textual ? body.toString('utf8') : body.toString('base64');
  event.isBase64Encoded = body.length > 0 && !textual;
  return event;
}

/** The context's deprecated callbacks: one function for all, not three closures per request. */
const ignored = () => undefined;

/** The context Lambda passes: a 30 s deadline, names after the operation's function. */
export function lambdaContext(operation: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `coffer-local-${operation}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:coffer-local-${operation}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/coffer-local-${operation}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: ignored,
    fail: ignored,
    succeed: ignored,
  };
}
