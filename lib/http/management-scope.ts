import type { Route } from './routes.ts';

/**
 * The ARM scope a management route's permission is checked at, from its path: the subscription,
 * resource group or vault the path names, or for the role-assignment and role-definition routes the
 * scope written before `/providers/Microsoft.Authorization` (as the client wrote it). A tenant-scoped
 * route (`GET /subscriptions`) is checked at `/`.
 */
export function managementScopeOf(route: Route, rawPath: string, params: Record<string, string | undefined>): string {
  const subscription = `/subscriptions/${params.subscriptionId ?? ''}`;
  const resourceGroup = `${subscription}/resourceGroups/${params.resourceGroupName ?? ''}`;
  switch (route.scope) {
    case 'tenant':
      return '/';
    case 'subscription':
      return subscription;
    case 'resourceGroup':
      return resourceGroup;
    case 'vault':
      return `${resourceGroup}/providers/Microsoft.KeyVault/vaults/${params.vaultName ?? ''}`;
    case 'path': {
      // ARM clients join their endpoint and a scope that starts with `/`: API Gateway may hand on `//subscriptions/...`.
      const path = rawPath.replace(/^\/+/, '/');
      const at = path.toLowerCase().indexOf('/providers/microsoft.authorization/');
      return decodeURIComponent(at === -1 ? path : path.slice(0, at));
    }
    default:
      throw new Error(`${route.operation}: not a management scope`);
  }
}
