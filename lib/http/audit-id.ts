import { deletedObjectId, objectId } from '../core/ids.ts';
import type { PathParameters } from './path-parameters.ts';
import type { Route } from './routes.ts';

/**
 * The object id an audit record names, built as the route row says (`auditId`). Only a successful
 * operation names its object: a refused or failed one may have addressed nothing that exists.
 */
export function auditObjectId(route: Route, vaultUrl: string, params: PathParameters, answer: unknown): string | undefined {
  switch (route.auditId) {
    case undefined:
      return undefined;
    case 'answer':
      return idInAnswer(answer);
    case 'path':
    case 'deleted': {
      if (typeof route.scope === 'string' || params.name === undefined)
        throw new Error(`${route.operation}: auditId '${route.auditId}' needs an object scope`);
      const { collection } = route.scope;
      return route.auditId === 'path'
        ? objectId(vaultUrl, collection, params.name, params.version)
        : deletedObjectId(vaultUrl, collection, params.name);
    }
  }
}

/** A bundle's `id` (secrets, certificates) or its key's `kid` (keys): the version the answer is about. */
function idInAnswer(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const { id, key } = answer as { id?: unknown; key?: { kid?: unknown } };
  if (typeof id === 'string') return id;
  return typeof key?.kid === 'string' ? key.kid : undefined;
}
