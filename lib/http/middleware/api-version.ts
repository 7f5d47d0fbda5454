import { type ApiVersions, assertApiVersion, assertOperationInVersion } from '../api-version.ts';
import type { Middleware } from '../request.ts';

/** `api-version`: present, one the plane knows, and not older than the operation (`since`). */
export function apiVersion(versions: ApiVersions): Middleware {
  return {
    before: (request) => {
      const { route } = request.context.coffer;
      const version = assertApiVersion(request.event.queryStringParameters?.['api-version'], versions);
      assertOperationInVersion(route.operation, version, route.since, versions);
    },
  };
}
