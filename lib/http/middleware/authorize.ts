import { parsePolicyRequirement } from '../../access/access-policies.ts';
import { objectScope, vaultScope } from '../../access/scopes.ts';
import { Forbidden } from '../../core/errors.ts';
import type { Middleware, RequestState } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices } from '../services.ts';

/** How a plane decides: throws the plane's 403 unless the principal holds the route's permission. */
export type Authorizer = (state: RequestState, pathParameters: Record<string, string | undefined>, services: PipelineServices) => Promise<void>;

/**
 * The data plane: the vault's permission model decides. RBAC vaults check the route's DataAction at
 * the addressed object (or the vault) and every scope above it; access-policy vaults the route's
 * access-policy permission (lib/access/access-control.ts).
 */
export const vaultPermissionModel: Authorizer = async (state, pathParameters, services) => {
  const vault = state.vault!;
  const { route } = state;
  // Coffer has no private endpoints: a vault closed to public networks answers no data-plane request, as Key Vault does.
  if (vault.publicNetworkAccess === 'Disabled') {
    throw new Forbidden(
      `Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nVault: ${vault.name};location=${services.region}`,
      'ForbiddenByConnection',
    );
  }
  await services.access.authorizeData({
    vault,
    principal: state.principal!,
    dataAction: route.permission,
    policy: route.accessPolicy ? parsePolicyRequirement(route.accessPolicy) : undefined,
    scope: dataScopeOf(route, vault, pathParameters),
    region: services.region,
  });
};

/** The management plane: ARM Actions at the scope the path names (lib/http/management-scope.ts). */
export const managementActions: Authorizer = async (state, _pathParameters, services) => {
  // ARM refuses nobody `GET /subscriptions`: it lists what the caller can see, so the operation filters.
  if (state.route.scope === 'tenant') return;
  await services.access.authorizeControl(state.principal!, state.route.permission, state.managementScope ?? '/');
};

/** What an RBAC assignment has to cover: the object the path names, or the vault. */
function dataScopeOf(route: Route, vault: NonNullable<RequestState['vault']>, pathParameters: Record<string, string | undefined>): string {
  if (typeof route.scope === 'string') return vaultScope(vault);
  const name = pathParameters[route.scope.parameter];
  return name ? objectScope(vault, route.scope.collection, name) : vaultScope(vault);
}

export function authorize(services: () => PipelineServices, authorizer: Authorizer): Middleware {
  return {
    before: async (request) => {
      await authorizer(request.context.coffer, request.event.pathParameters ?? {}, services());
    },
  };
}
