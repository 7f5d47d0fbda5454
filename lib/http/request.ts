import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Principal } from '../auth/principal.ts';
import type { Vault } from '../vaults/vault.ts';
import type { PageRequest, PagingRequest } from './listing.ts';
import type { PathParameters } from './path-parameters.ts';
import type { Route } from './routes.ts';

/**
 * What the middleware learn about one request, in the order they learn it. Kept on the Lambda context
 * (`context.coffer`), which middy hands to every middleware and the handler.
 */
export interface RequestState {
  requestId: string;
  startedAt: number;
  route: Route;
  vault?: Vault;
  principal?: Principal;
  body?: unknown;
  paging?: PagingRequest & { request: PageRequest };
  params?: PathParameters;
  /** The audit record's object id, set once the operation succeeded. */
  objectId?: string;
  /**
   * The tenant of the subscription a management request's path names, for its audit record; the data
   * plane's records take the vault's.
   */
  tenantId?: string;
  /**
   * The ARM resource id a management request addresses (a subscription, resource group, vault, role
   * assignment...), for its audit record; without it, the record names the vault's.
   */
  resourceId?: string;
  /**
   * The audit partition of a container that is not a vault (a managed HSM pool's `managedhsms/<name>`):
   * every record of a request it addresses goes there, answered or refused.
   */
  auditPartition?: string;
  /** The vault a management request's path names, whose audit partition its record goes to when `vault` is unset (e.g. a vault being created). */
  auditVault?: string;
  /** The ARM scope a management request's permission is checked at (lib/http/middleware/authorize.ts). */
  managementScope?: string;
}

export type Event = APIGatewayProxyEventV2;
export type Result = APIGatewayProxyStructuredResultV2;
export type RequestContext = Context & { coffer: RequestState };
export type Middleware = MiddlewareObj<Event, Result, Error, RequestContext>;

/**
 * The value of the first header whose name lowercases to `name`. A request reads seven or so headers
 * through here: a name of another length is passed over without lowercasing it (none lowercases to
 * an ASCII `name`), which was most of the time spent here.
 */
export function header(event: Event, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  for (const key of Object.keys(headers)) {
    if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

export function hostOf(event: Event): string {
  return header(event, 'host') ?? event.requestContext?.domainName ?? '';
}

/** The URL the caller reached the service at: object ids and nextLinks are built on it. */
export function baseUrlOf(event: Event): string {
  return `https://${hostOf(event)}`;
}
