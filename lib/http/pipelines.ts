import middy from '@middy/core';
import type { Event, RequestContext, Result } from './request.ts';
import { type ApiVersions, KEY_VAULT_API_VERSIONS, MANAGEMENT_API_VERSIONS } from './api-version.ts';
import { apiVersion } from './middleware/api-version.ts';
import { auditIntent } from './middleware/audit-intent.ts';
import { authenticate } from './middleware/authenticate.ts';
import { type Authorizer, authorize, managementActions, vaultPermissionModel } from './middleware/authorize.ts';
import { body } from './middleware/body.ts';
import { context, type RequestLocator, subscriptionFromPath, vaultFromHost } from './middleware/context.ts';
import { paging } from './middleware/paging.ts';
import { pathParameters } from './middleware/path.ts';
import { keyVaultHeaders, managementHeaders, type PlaneHeaders, respond } from './middleware/respond.ts';
import {
  type OperationContext,
  type OperationHandler,
  type OperationInput,
  type OperationResult,
  type OperationSchemas,
  operationBody,
} from './operation.ts';
import { type OperationName, type Plane, type Route, routeFor } from './routes.ts';
import type { PipelineServices, TokenAudience } from './services.ts';

/**
 * The request pipelines: one composition of the middleware per plane, with what differs between
 * planes passed in.
 *
 *   1. context       request id, start time, what the request addresses (the vault; the subscription)
 *   2. authenticate  Bearer JWT for the plane's audience; a missing one gets the 401 challenge before anything looks at the body
 *   3. api-version   present, known, and not older than the operation
 *   4. authorize     the route's permission for the principal at the route's scope (docs/adr/0013)
 *   5. body          size, JSON, schema
 *   6. paging        `maxresults`, `$skiptoken`
 *   7. path          the route's path-parameter schema
 *   8. audit intent  a strict vault's change is recorded before it is made (middleware/audit-intent.ts)
 *   9. the domain operation
 *  10. respond       Azure's error body; the audit record; the log line; standard headers
 *
 * Body, paging and path are checked in that order because the domain used to check names after the
 * body and the paging query: a request with several faults keeps getting the same 400.
 */
export interface PlaneSettings {
  plane: Plane;
  apiVersions: (route: Route) => ApiVersions;
  locate: RequestLocator;
  audience: TokenAudience;
  authorizer: Authorizer;
  headers: PlaneHeaders;
}

/** The vault data plane: Key Vault's api-versions, the vault from the Host header, the vault's permission model. */
export const dataPlane: PlaneSettings = {
  plane: 'data',
  apiVersions: () => KEY_VAULT_API_VERSIONS,
  locate: vaultFromHost,
  audience: 'data',
  authorizer: vaultPermissionModel,
  headers: keyVaultHeaders,
};

/**
 * The ARM-shaped management plane: the subscription in the path names the tenant, each resource
 * provider has its api-versions, and ARM Actions are authorized instead of DataActions.
 */
export const managementPlane: PlaneSettings = {
  plane: 'management',
  apiVersions: (route) => {
    if (!route.provider) throw new Error(`${route.operation}: a management route names its provider`);
    return MANAGEMENT_API_VERSIONS[route.provider];
  },
  locate: subscriptionFromPath,
  audience: 'management',
  authorizer: managementActions,
  headers: managementHeaders,
};

/** One route's Lambda handler on a plane: the middleware around the domain call. */
export function routeHandler<TBody, TServices>(
  plane: PlaneSettings,
  route: Route,
  services: () => PipelineServices,
  domain: () => TServices,
  schemas: OperationSchemas<TBody>,
  run: (input: OperationContext<TBody, TServices>) => Promise<OperationResult>,
): OperationHandler {
  if (route.plane !== plane.plane) throw new Error(`${route.operation} is a ${route.plane}-plane route, not a ${plane.plane}-plane one`);
  const handler = middy<Event, Result, Error, RequestContext>()
    .use(respond(route, services, plane.headers))
    .use(context(route, services, plane.locate))
    .use(authenticate(services, plane.audience))
    .use(apiVersion(plane.apiVersions(route), plane.plane))
    .use(authorize(services, plane.authorizer))
    .use(body(schemas, plane.plane))
    .use(paging(services))
    .use(pathParameters())
    .use(auditIntent(services))
    .handler(operationBody(route, domain, run));
  // The context middleware adds `coffer` to the context; callers pass a plain Lambda context.
  return handler as unknown as OperationHandler;
}

export type DefineOperation<TServices> = <Op extends OperationName, TBody = undefined>(
  operation: Op,
  schemas: OperationSchemas<TBody>,
  run: (input: OperationInput<Op, TBody, TServices>) => Promise<OperationResult>,
) => OperationHandler;

/** A family's `defineOperation`: the plane's pipeline bound to the shared services and the family's own. */
export function operations<TServices>(plane: PlaneSettings, services: () => PipelineServices, domain: () => TServices): DefineOperation<TServices> {
  return (operation, schemas, run) =>
    routeHandler(
      plane,
      routeFor(operation),
      services,
      domain,
      schemas,
      run as (input: OperationContext<unknown, TServices>) => Promise<OperationResult>,
    );
}
