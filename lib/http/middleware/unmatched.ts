import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { MethodNotAllowed, NotFound, ServiceUnavailable, VaultError } from '../../core/errors.ts';
import { parseHost } from '../../vaults/directory.ts';
import { type Event, hostOf, type RequestContext, type Result } from '../request.ts';
import { matchRoute, type Plane, type Route, type RouteMatch, routeKey } from '../routes.ts';
import type { PipelineServices } from '../services.ts';
import { context, type RequestLocator, vaultFromHost } from './context.ts';
import { keyVaultHeaders, managementHeaders, respond } from './respond.ts';

/** The audit `operationName` of a request no route matched, as the local gateway's refusals name it. */
const UNMATCHED_OPERATION = 'Unknown';

export type RouteResolution = { match: RouteMatch; refusal?: undefined } | { match?: undefined; refusal: VaultError };

/**
 * The one rule for which route a request reaches, for the local gateway and for the function behind
 * API Gateway's `$default` route alike: the route table's own matching (lib/http/routes.ts
 * `matchRoute`: literals case-insensitive, an empty or absent version as the latest), after
 * collapsing a leading `//` (ARM clients join their endpoint and a scope that starts with `/`); no
 * route is a 405 when the path has one for another method, else a 404, both in Azure's error shape.
 */
export function resolveRoute(
  method: string,
  path: string,
  serves: (route: Route) => boolean = () => true,
  /** The rows to resolve against: the main stack's by default; the local gateway passes `localRoutes`. */
  table?: readonly Route[],
): RouteResolution {
  const { match, pathExists } = matchRoute(method, normalizedPath(path), serves, table);
  if (match) return { match };
  return { refusal: pathExists ? new MethodNotAllowed(method.toUpperCase()) : new NotFound('NotFound', 'The requested resource was not found.') };
}

/**
 * The route `resolveRoute` would choose, without the refusal it makes for none (an error, its stack
 * captured): for a second look at a request that has its route already, as the local gateway's at a
 * pool's own rows, which most requests do not match.
 */
export function matchingRoute(method: string, path: string, serves: (route: Route) => boolean, table?: readonly Route[]): RouteMatch | undefined {
  return matchRoute(method, normalizedPath(path), serves, table).match;
}

function normalizedPath(path: string): string {
  return path.replace(/^\/{2,}/, '/');
}

/** Which routes a host serves: the management host the management plane's, every other host the data planes'. */
function planeServes(plane: 'management' | 'data'): (route: Route) => boolean {
  return plane === 'management' ? (route) => route.plane === 'management' : (route) => route.plane !== 'management';
}

export interface UnmatchedRequestOptions {
  services: () => PipelineServices;
  /** The management plane's host (`management.<vault domain>`); every other host is a vault's. */
  managementHost: () => string;
  /** Hands a request to its operation's function and answers what that function answered. */
  forward: (route: Route, event: Event) => Promise<Result>;
  /** The rows of the API whose `$default` route this is: the main stack's `routes` by default, the pools' API its own. */
  table?: readonly Route[];
  /**
   * Where a refused data-plane request's record goes: the live vault the host names by default; on
   * the pools' API, the live pool the host names (its audit partition).
   */
  locateRefusal?: RequestLocator;
}

/**
 * The handler of API Gateway's `$default` route: the requests no route key matched. Those the route
 * table does match once normalized (`POST /keys/k//sign`, `/DeletedSecrets`, `//subscriptions/...`)
 * go on to their operation's function with the route's path parameters, as API Gateway would have
 * sent them, and that function answers and audits them. The rest are refused with a 404 or 405 that
 * is audited like every answer (the `respond` middleware), so route probing is in the audit records.
 */
export function unmatchedRequests(options: UnmatchedRequestOptions): (event: Event, context: Context) => Promise<Result> {
  const refusals = {
    data: refusalHandler('data', options.services, options.locateRefusal),
    management: refusalHandler('management', options.services),
  };
  return async (event, lambdaContext) => {
    const plane = isHost(hostOf(event), options.managementHost()) ? 'management' : 'data';
    const method = event.requestContext?.http?.method ?? 'GET';
    const resolution = resolveRoute(method, event.rawPath ?? '/', planeServes(plane), options.table);
    let refusal = resolution.refusal;
    let route: Route | undefined;
    if (resolution.match) {
      route = resolution.match.route;
      const key = routeKey(route);
      const forwarded: Event = {
        ...event,
        routeKey: key,
        requestContext: { ...event.requestContext, routeKey: key },
        pathParameters: resolution.match.pathParameters,
      };
      try {
        const answer = await options.forward(route, forwarded);
        if (typeof answer?.statusCode === 'number') return answer;
        // A function that ended without an answer (a timeout, a crash) answered nothing to audit: say so here.
        options.services().logger.error('forwarded request ended without an answer', { operation: route.operation });
        refusal = new ServiceUnavailable('The operation did not complete; retry the request.');
      } catch (error) {
        options.services().logger.error('forwarding failed', { operation: route.operation, error: error instanceof Error ? error.name : 'unknown' });
        refusal = error instanceof VaultError ? error : new ServiceUnavailable('The operation could not be reached; retry the request.');
      }
    }
    const handler = refusals[plane];
    return handler(event, { ...lambdaContext, refusal, route } as unknown as Context);
  };
}

function isHost(requested: string, managementHost: string): boolean {
  try {
    return parseHost(requested).host.split(':')[0]!.toLowerCase() === managementHost.split(':')[0]!.toLowerCase();
  } catch {
    return false;
  }
}

type RefusalContext = RequestContext & { refusal: VaultError; route?: Route };

/** The route a refusal is audited as: the matched operation's when there was one, else `Unknown`. */
function refusalRoute(plane: 'data' | 'management'): Route {
  const routePlane: Plane = plane;
  return {
    operation: UNMATCHED_OPERATION,
    plane: routePlane,
    method: 'GET',
    path: '/',
    handler: 'gateway/route-unmatched-requests',
    permission: '',
    scope: plane === 'management' ? 'tenant' : 'vault',
    audit: UNMATCHED_OPERATION,
  };
}

/**
 * Where a refusal's record goes, as the local gateway's refusals: on the data plane the live vault
 * the host names (else no vault), on the management plane the deployment's subscription the path
 * names, never a vault (a refused request stays out of a vault's records).
 */
const refusalLocator =
  (plane: 'data' | 'management'): RequestLocator =>
  async (event, services, state) => {
    if (plane === 'data') {
      await vaultFromHost(event, services, state).catch(() => undefined);
      return;
    }
    const subscription = /^\/+subscriptions\/([^/]+)/i.exec(event.rawPath ?? '')?.[1];
    const tenantId = subscription ? services.subscriptions.tenantOf(subscription) : undefined;
    if (subscription && tenantId) {
      state.tenantId = tenantId;
      state.resourceId = `/subscriptions/${subscription.toLowerCase()}`;
    }
  };

function refusalHandler(plane: 'data' | 'management', services: () => PipelineServices, locate: RequestLocator = refusalLocator(plane)) {
  const fallback = refusalRoute(plane);
  const handler = middy<Event, Result, Error, RefusalContext>()
    .use(respond(fallback, services, plane === 'management' ? managementHeaders : keyVaultHeaders))
    .use(context(fallback, services, locate))
    .use({
      before: (request) => {
        // A request that matched an operation whose function could not answer is that operation's in the record.
        if (request.context.route) request.context.coffer.route = { ...request.context.route };
      },
    })
    .handler(async (_event, lambdaContext) => {
      throw lambdaContext.refusal;
    });
  return handler as unknown as (event: Event, context: Context) => Promise<Result>;
}
