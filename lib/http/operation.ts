import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { AuditRecord } from '../audit/audit.ts';
import type { Principal } from '../auth/principal.ts';
import { authorize } from '../access/rbac.ts';
import { type Services, services } from '../runtime/services.ts';
import type { Vault, VaultAddress } from '../vaults/vault.ts';
import { assertApiVersion, assertOperationInVersion } from './api-version.ts';
import { auditObjectId } from './audit-id.ts';
import { type ListPage, listAnswer, listingOf, type PageRequest, pageRequest } from './listing.ts';
import { parsePathParameters, type PathParameters } from './path-parameters.ts';
import { BadParameter, describeError, PayloadTooLarge, ServiceUnavailable, VaultError } from '../core/errors.ts';
import { type OperationName, type Route, type RouteOf, routeFor } from './routes.ts';
import { validate } from './validation.ts';

/**
 * Every handler is `defineOperation(...)`: the shared middleware stack around one domain call.
 *
 *   1. context       request id, vault from the Host header
 *   2. authenticate  Bearer JWT; a missing one gets the 401 challenge before anything looks at the body
 *   3. api-version   present and known
 *   4. authorize     the route's DataAction against the vault's role assignments
 *   5. validate      path, query and body with zod -> 400 BadParameter
 *   6. the domain operation
 *   7. errors        mapped to Azure's error body; the audit record written; one log line
 */
export const MAX_BODY_BYTES = 1024 * 1024;

interface BaseInput<TBody> {
  at: VaultAddress;
  query: Record<string, string | undefined>;
  body: TBody;
  principal: Principal;
  services: Services;
  requestId: string;
}

/** The route's path parameters, typed and validated by its `params` schema: `name`, `version`. */
type PathOf<R> = R extends { params: z.ZodType<infer P, unknown> } ? P : unknown;
/** A paged route's request: `maxresults` and the opened `$skiptoken`. */
type PagingOf<R> = R extends { paged: true } ? { page: PageRequest } : unknown;

export type OperationInput<Op extends OperationName, TBody> = BaseInput<TBody> & PathOf<RouteOf<Op>> & PagingOf<RouteOf<Op>>;

export type OperationResult =
  | { status?: number; body?: unknown; headers?: Record<string, string> }
  /** A paged route answers a page; the pipeline turns it into `{value, nextLink}`. */
  | { page: ListPage<unknown> };

interface RequestState {
  requestId: string;
  startedAt: number;
  route: Route;
  vault?: Vault;
  principal?: Principal;
  objectId?: string;
}

type CofferContext = Context & { coffer: RequestState };
type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

export interface OperationSchemas<TBody> {
  body?: z.ZodType<TBody>;
  /** A body is required (Azure rejects a PUT/POST without one). */
  bodyRequired?: boolean;
}

/** What API Gateway invokes: a plain Lambda handler for HTTP API payload 2.0 events. */
export type OperationHandler = (event: Event, context: Context) => Promise<Result>;

export function defineOperation<Op extends OperationName, TBody = undefined>(
  operation: Op,
  schemas: OperationSchemas<TBody>,
  run: (input: OperationInput<Op, TBody>) => Promise<OperationResult>,
): OperationHandler {
  const route = routeFor(operation);
  const handler = middy<Event, Result, Error, CofferContext>()
    .use(responses(route))
    .use(resolveVault())
    .use(authenticate())
    .use(checkApiVersion())
    .use(authorizeRoute())
    .handler(async (event, context) => {
      const state = context.coffer;
      const svc = services();
      const query = event.queryStringParameters ?? {};
      const rawParams = event.pathParameters ?? {};
      const at: VaultAddress = { vault: state.vault!, baseUrl: `https://${hostOf(event)}` };
      // Body, then paging, then the path: the order the domain used to check them in, so a request
      // with several faults keeps getting the same 400.
      const body = parseBody(event, schemas);
      const paging = route.paged ? { query, pagingKey: await svc.vaults.pagingKey(at.vault), listing: listingOf(route, rawParams) } : undefined;
      const page = paging ? pageRequest(paging) : undefined;
      const params: PathParameters = route.params ? parsePathParameters(route.params, rawParams) : {};
      const input = { ...params, ...(page ? { page } : {}), at, query, body, principal: state.principal!, services: svc, requestId: state.requestId };
      const result = await run(input as OperationInput<Op, TBody>);
      if ('page' in result) {
        return {
          statusCode: 200,
          headers: {},
          body: JSON.stringify(listAnswer(result.page, { ...paging!, limit: page!.limit, baseUrl: at.baseUrl })),
        };
      }
      state.objectId = auditObjectId(route, at.baseUrl, params, result.body);
      return {
        statusCode: result.status ?? 200,
        headers: result.headers ?? {},
        body: result.body === undefined ? '' : JSON.stringify(result.body),
      };
    });
  // The first middleware adds `coffer` to the context; callers pass a plain Lambda context.
  return handler as unknown as OperationHandler;
}

function responses(route: Route): MiddlewareObj<Event, Result, Error, CofferContext> {
  return {
    before: (request) => {
      request.context.coffer = { requestId: randomUUID(), startedAt: Date.now(), route };
    },
    after: async (request) => {
      request.response = await finish(request.event, request.context.coffer, request.response ?? { statusCode: 200 }, undefined);
    },
    onError: async (request) => {
      const state = request.context.coffer ?? { requestId: randomUUID(), startedAt: Date.now(), route };
      const error = request.error;
      const known = error instanceof VaultError ? error : undefined;
      if (!known) {
        // Unexpected failures: logged with their stack for operators, answered without it.
        services().logger.error('unhandled error', { requestId: state.requestId, operation: route.operation, error: describeError(error) });
      }
      const failure = known ?? new VaultError(500, 'InternalError', 'The service encountered an internal error. Retry the request.');
      request.response = await finish(
        request.event,
        state,
        { statusCode: failure.status, headers: failure.headers, body: JSON.stringify(failure.toBody()) },
        failure,
      );
    },
  };
}

/** Standard headers, the audit record and the log line, for every response. */
async function finish(event: Event, state: RequestState, response: Result, failure: VaultError | undefined): Promise<Result> {
  const svc = services();
  const status = response.statusCode ?? 200;
  const audit: AuditRecord = {
    time: new Date().toISOString(),
    vault: state.vault?.name ?? '_unresolved',
    requestId: state.requestId,
    operationName: state.route.audit,
    operationVersion: event.queryStringParameters?.['api-version'],
    category: 'AuditEvent',
    resultType: status < 400 ? 'Success' : 'Failure',
    resultSignature: failure?.code ?? statusText(status),
    resultDescription: failure?.innerCode,
    httpStatusCode: status,
    durationMs: Date.now() - state.startedAt,
    callerIpAddress: event.requestContext?.http?.sourceIp,
    correlationId: header(event, 'x-ms-client-request-id'),
    identity: state.principal
      ? { oid: state.principal.objectId, appid: state.principal.appId, upn: state.principal.upn, tid: state.principal.tenantId }
      : undefined,
    requestUri: `https://${hostOf(event)}${event.rawPath}`,
    id: state.objectId,
    clientInfo: header(event, 'user-agent'),
  };
  let final = response;
  try {
    await svc.audit.write(audit);
  } catch (error) {
    // Nothing leaves unaudited: a response whose record cannot be written becomes a 503.
    svc.logger.error('audit write failed', { requestId: state.requestId, error: describeError(error) });
    const unavailable = new ServiceUnavailable('The audit log is unavailable; the request was not completed.');
    final = { statusCode: unavailable.status, headers: unavailable.headers, body: JSON.stringify(unavailable.toBody()) };
  }
  svc.logger.info('request', {
    requestId: state.requestId,
    operation: state.route.operation,
    vault: audit.vault,
    status: final.statusCode,
    durationMs: audit.durationMs,
    caller: state.principal?.objectId,
  });
  const clientRequestId = header(event, 'x-ms-client-request-id');
  return {
    ...final,
    headers: {
      ...(final.body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
      'Cache-Control': 'no-cache',
      Pragma: 'no-cache',
      Expires: '-1',
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000;includeSubDomains',
      'x-ms-request-id': state.requestId,
      'x-ms-keyvault-region': svc.config.region,
      'x-ms-keyvault-service-version': '1.9.0.0',
      'x-ms-keyvault-network-info': `conn_type=Ipv4;addr=${event.requestContext?.http?.sourceIp ?? ''};act_addr_fam=InterNetwork;`,
      ...(clientRequestId ? { 'x-ms-client-request-id': clientRequestId } : {}),
      ...final.headers,
    },
  };
}

function resolveVault(): MiddlewareObj<Event, Result, Error, CofferContext> {
  return {
    before: async (request) => {
      request.context.coffer.vault = await services().vaults.resolve(hostOf(request.event));
    },
  };
}

function authenticate(): MiddlewareObj<Event, Result, Error, CofferContext> {
  return {
    before: async (request) => {
      const vault = request.context.coffer.vault!;
      request.context.coffer.principal = await services().authenticator.authenticate(header(request.event, 'authorization'), vault.tenantId);
    },
  };
}

function checkApiVersion(): MiddlewareObj<Event, Result, Error, CofferContext> {
  return {
    before: (request) => {
      const version = assertApiVersion(request.event.queryStringParameters?.['api-version']);
      assertOperationInVersion(request.context.coffer.route.operation, version, request.context.coffer.route.since);
    },
  };
}

function authorizeRoute(): MiddlewareObj<Event, Result, Error, CofferContext> {
  return {
    before: (request) => {
      const state = request.context.coffer;
      const vault = state.vault!;
      const { scope } = state.route;
      const name = scope === 'vault' ? undefined : request.event.pathParameters?.[scope.parameter];
      authorize(vault.roleAssignments, {
        principal: state.principal!,
        dataAction: state.route.permission,
        scope: scope !== 'vault' && name ? `/${scope.collection}/${name}` : '/',
        vaultName: vault.name,
        region: services().config.region,
      });
    },
  };
}

function parseBody<TBody>(event: Event, schemas: OperationSchemas<TBody>): TBody {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge('The request body is too large.');
  if (!schemas.body) return undefined as TBody;
  if (raw.trim() === '') {
    if (schemas.bodyRequired) throw new BadParameter('The request body is required.');
    return validate(schemas.body, {});
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BadParameter('The request body is not valid JSON.');
  }
  return validate(schemas.body, parsed);
}

export function header(event: Event, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

function hostOf(event: Event): string {
  return header(event, 'host') ?? event.requestContext?.domainName ?? '';
}

function statusText(status: number): string {
  return ({ 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'NoContent' } as Record<number, string>)[status] ?? String(status);
}
