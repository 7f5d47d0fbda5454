import { type ApiVersions, assertApiVersion, assertOperationInVersion } from '../api-version.ts';
import { VaultError } from '../../core/errors.ts';
import type { Middleware } from '../request.ts';
import type { Plane } from '../routes.ts';

/**
 * `api-version`: present, one the plane knows, and not older than the operation (`since`). The
 * management plane words its 400s as ARM does, with ARM's codes.
 */
export function apiVersion(versions: ApiVersions, plane: Plane): Middleware {
  return {
    before: (request) => {
      const { route } = request.context.coffer;
      const requested = request.event.queryStringParameters?.['api-version'];
      if (plane === 'management') return assertArmApiVersion(requested, versions);
      const version = assertApiVersion(requested, versions);
      assertOperationInVersion(route.operation, version, route.since, versions);
    },
  };
}

function assertArmApiVersion(requested: string | undefined, versions: ApiVersions): void {
  if (requested === undefined || requested === '') {
    throw new VaultError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  if (!versions.supported.includes(requested)) {
    const shown = requested.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
    throw new VaultError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${shown}' is invalid. The supported versions are '${[...versions.supported].reverse().join(',')}'.`,
    );
  }
}
