import { authorize as authorizeByRoles } from '../../access/rbac.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Vault } from '../../vaults/vault.ts';
import type { Middleware } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices } from '../services.ts';

export interface AuthorizationCheck {
  vault: Vault;
  principal: Principal;
  /** The route's permission: a DataAction on the data plane. */
  permission: string;
  /** `/` for the vault, `/<collection>/<name>` for one object. */
  scope: string;
  region: string;
}

/** Throws the plane's 403 unless the principal holds the permission at the scope. */
export type Authorizer = (check: AuthorizationCheck) => void;

/** The vault's Azure RBAC role assignments (lib/access/rbac.ts). */
export const roleAssignments: Authorizer = ({ vault, principal, permission, scope, region }) => {
  authorizeByRoles(vault.roleAssignments, { principal, dataAction: permission, scope, vaultName: vault.name, region });
};

/** What an RBAC assignment has to cover: the object the path names, or the vault. */
export function scopeOf(route: Route, pathParameters: Record<string, string | undefined>): string {
  if (route.scope === 'vault') return '/';
  const name = pathParameters[route.scope.parameter];
  return name ? `/${route.scope.collection}/${name}` : '/';
}

export function authorize(services: () => PipelineServices, authorizer: Authorizer): Middleware {
  return {
    before: (request) => {
      const state = request.context.coffer;
      authorizer({
        vault: state.vault!,
        principal: state.principal!,
        permission: state.route.permission,
        scope: scopeOf(state.route, request.event.pathParameters ?? {}),
        region: services().region,
      });
    },
  };
}
