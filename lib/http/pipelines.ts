import middy from '@middy/core';
import type { Event, RequestContext, Result } from './request.ts';
import { type ApiVersions, KEY_VAULT_API_VERSIONS } from './api-version.ts';
import { apiVersion } from './middleware/api-version.ts';
import { authenticate } from './middleware/authenticate.ts';
import { type Authorizer, authorize, roleAssignments } from './middleware/authorize.ts';
import { body } from './middleware/body.ts';
import { context, type VaultLocator, vaultFromHost } from './middleware/context.ts';
import { paging } from './middleware/paging.ts';
import { pathParameters } from './middleware/path.ts';
import { keyVaultHeaders, type PlaneHeaders, respond } from './middleware/respond.ts';
import {
  type OperationContext,
  type OperationHandler,
  type OperationInput,
  type OperationResult,
  type OperationSchemas,
  operationBody,
} from './operation.ts';
import { type OperationName, type Plane, type Route, routeFor } from './routes.ts';
import type { PipelineServices } from './services.ts';

/**
 * The request pipelines: one composition of the middleware per plane, with what differs between
 * planes passed in.
 *
 *   1. context       request id, start time, the vault
 *   2. authenticate  Bearer JWT; a missing one gets the 401 challenge before anything looks at the body
 *   3. api-version   present, known, and not older than the operation
 *   4. authorize     the route's permission for the principal at the route's scope
 *   5. body          size, JSON, schema
 *   6. paging        `maxresults`, `$skiptoken`
 *   7. path          the route's path-parameter schema
 *   8. the domain operation
 *   9. respond       Azure's error body; the audit record; the log line; standard headers
 *
 * Body, paging and path are checked in that order because the domain used to check names after the
 * body and the paging query: a request with several faults keeps getting the same 400.
 */
export interface PlaneSettings {
  plane: Plane;
  apiVersions: ApiVersions;
  locateVault: VaultLocator;
  authorizer: Authorizer;
  headers: PlaneHeaders;
}

/** The vault data plane: Key Vault's api-versions, the vault from the Host header, RBAC DataActions. */
export const dataPlane: PlaneSettings = {
  plane: 'data',
  apiVersions: KEY_VAULT_API_VERSIONS,
  locateVault: vaultFromHost,
  authorizer: roleAssignments,
  headers: keyVaultHeaders,
};

/**
 * The ARM-shaped management plane: its own host and api-versions, and management actions instead of
 * DataActions. Its first routes bring the versions, how a request names its vault, and the authorizer
 * for management actions.
 */
export function managementPlane(settings: Pick<PlaneSettings, 'apiVersions' | 'locateVault' | 'authorizer'>): PlaneSettings {
  return { plane: 'management', headers: () => ({}), ...settings };
}

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
    .use(context(route, services, plane.locateVault))
    .use(authenticate(services))
    .use(apiVersion(plane.apiVersions))
    .use(authorize(services, plane.authorizer))
    .use(body(schemas))
    .use(paging(services))
    .use(pathParameters())
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
