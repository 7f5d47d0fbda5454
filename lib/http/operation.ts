import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { Principal } from '../auth/principal.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { auditObjectId } from './audit-id.ts';
import { type ListPage, listAnswer, type PageRequest } from './listing.ts';
import type { BodySchema } from './middleware/body.ts';
import { baseUrlOf, type Event, type RequestContext, type Result } from './request.ts';
import type { OperationName, Route, RouteOf } from './routes.ts';

/**
 * What a handler's one domain call receives and returns. The pipeline (lib/http/pipelines.ts) has
 * checked everything before: the caller, the api-version, the permission, the body, the paging query
 * and the path; it answers, audits and logs after.
 */
export interface OperationContext<TBody, TServices> {
  /**
   * The vault and the URL the caller reached it at: wire shapes build their ids on it. On the
   * management plane `at.vault` is the live vault the path names, if any (read `management` instead).
   */
  at: VaultAddress;
  /** What a management request addresses: its tenant, the ARM scope of its path, and the URL it came in at (for nextLinks and Location headers). */
  management: { tenantId: string; scope: string; baseUrl: string };
  query: Record<string, string | undefined>;
  body: TBody;
  principal: Principal;
  /** The family's domain services, from its composition root (lib/runtime). */
  services: TServices;
  requestId: string;
  /** When the request began (epoch milliseconds): the time its audit record carries. */
  startedAt: number;
}

/** The route's path parameters, typed and validated by its `params` schema: `name`, `version`. */
type PathOf<R> = R extends { params: z.core.$ZodType<infer P, unknown> } ? P : unknown;
/** A paged route's request: `maxresults` and the opened `$skiptoken`. */
type PagingOf<R> = R extends { paged: true } ? { page: PageRequest } : unknown;

export type OperationInput<Op extends OperationName, TBody, TServices> = OperationContext<TBody, TServices> &
  PathOf<RouteOf<Op>> &
  PagingOf<RouteOf<Op>>;

export type OperationResult =
  | { status?: number; body?: unknown; headers?: Record<string, string> }
  /** A paged route answers a page; the pipeline turns it into `{value, nextLink}`. */
  | { page: ListPage<unknown> };

export type OperationSchemas<TBody> = BodySchema<TBody>;

/** What API Gateway invokes: a plain Lambda handler for HTTP API payload 2.0 events. */
export type OperationHandler = (event: Event, context: Context) => Promise<Result>;

/** Runs the domain call with what the middleware established, and shapes its answer. */
export function operationBody<TBody, TServices>(
  route: Route,
  domain: () => TServices,
  run: (input: OperationContext<TBody, TServices>) => Promise<OperationResult>,
): (event: Event, context: RequestContext) => Promise<Result> {
  return async (event, context) => {
    const state = context.coffer;
    const at: VaultAddress = { vault: state.vault!, baseUrl: baseUrlOf(event) };
    const params = state.params ?? {};
    const input = {
      ...params,
      ...(state.paging ? { page: state.paging.request } : {}),
      at,
      query: event.queryStringParameters ?? {},
      body: state.body as TBody,
      principal: state.principal!,
      management: { tenantId: state.tenantId ?? state.principal!.tenantId, scope: state.managementScope ?? '/', baseUrl: at.baseUrl },
      services: domain(),
      requestId: state.requestId,
      startedAt: state.startedAt,
    };
    const result = await run(input);
    if ('page' in result) {
      if (!state.paging) throw new Error(`${route.operation} answered a page but its route is not paged`);
      return { statusCode: 200, headers: {}, body: JSON.stringify(listAnswer(result.page, state.paging, at.baseUrl)) };
    }
    state.objectId = auditObjectId(route, at.baseUrl, params, result.body);
    return {
      statusCode: result.status ?? 200,
      headers: result.headers ?? {},
      body: result.body === undefined ? '' : JSON.stringify(result.body),
    };
  };
}
