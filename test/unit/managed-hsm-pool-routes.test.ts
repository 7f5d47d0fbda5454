import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { managedHsmPoolPermissions } from '../../infra/permissions.ts';
import { apiPaths, assertNoConflicts } from '../../infra/serverless-config.ts';
import { resolveRoute } from '../../lib/http/middleware/unmatched.ts';
import { localRoutes, managedHsmDataRoutes, managedHsmPoolRoutes, matchRoute, routes } from '../../lib/http/routes.ts';

/**
 * The managed HSM pools' route rows (docs/adr/0020): held to the table's rules like the main stack's
 * rows, served by the local gateway, and not by the main stack, whose package and `$default` route
 * know `routes` only.
 */
describe('managed HSM pool routes', () => {
  it('are management rows of the keyVault provider with kebab-case handlers that exist', () => {
    for (const route of managedHsmPoolRoutes) {
      expect(route.plane, route.operation).toBe('management');
      expect(route.provider, route.operation).toBe('keyVault');
      expect(route.handler.split('/').at(-1), route.operation).toBe(route.operation.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase());
      expect(existsSync(join('functions', `${route.handler}.ts`)), route.handler).toBe(true);
      expect(route.handler, route.operation).toMatch(/^management\/.*managed-hsm/);
    }
  });

  it('conflict with no row of the main stack, and every one has its grants for the pools stack', () => {
    // The main API carries the main stack's and the pools' management rows; a pool's own host is an API
    // of its own, whose keys rows have the vaults' paths (docs/adr/0024).
    expect(() => assertNoConflicts([...routes, ...managedHsmPoolRoutes])).not.toThrow();
    expect(() => assertNoConflicts(managedHsmDataRoutes)).not.toThrow();
    expect(Object.keys(managedHsmPoolPermissions).sort()).toEqual(managedHsmPoolRoutes.map((r) => r.operation).sort());
    for (const route of managedHsmPoolRoutes) expect(apiPaths(route), route.operation).toEqual([route.path]);
  });

  it('are matched for the local gateway, and not for the main stack', () => {
    const path = '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/pool1';
    expect(matchRoute('PUT', path, () => true, localRoutes).match?.route.operation).toBe('CreateOrUpdateManagedHsm');
    expect(matchRoute('PUT', path).match).toBeUndefined();
    // The main stack's `$default` answers its own 404 instead of forwarding to a function it does not have.
    expect(resolveRoute('PUT', path).refusal).toMatchObject({ status: 404, code: 'NotFound' });
    expect(resolveRoute('PUT', path, () => true, localRoutes).match?.route.operation).toBe('CreateOrUpdateManagedHsm');
    expect(routes.some((r) => r.path.toLowerCase().includes('managedhsm'))).toBe(false);
    const purge = '/subscriptions/s/providers/Microsoft.KeyVault/locations/eastus/deletedManagedHSMs/pool1/purge';
    expect(matchRoute('POST', purge, () => true, localRoutes).match).toMatchObject({
      route: { operation: 'PurgeDeletedManagedHsm' },
      pathParameters: { location: 'eastus', name: 'pool1' },
    });
  });
});
