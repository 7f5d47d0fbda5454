import { Conflict, NotFound } from '../core/errors.ts';
import type { ObjectKind } from '../core/kinds.ts';
import { printable } from './rules.ts';
import { ConcurrentUpdate, NameIsDeleted } from './store.ts';

/** Azure's errors for versioned objects, worded per kind (reference §1, §2). */
export function objectNotFound(kind: ObjectKind, name: string, version?: string): NotFound {
  const id = version ? `${printable(name)}/${printable(version)}` : printable(name);
  const lower = kind.toLowerCase();
  return new NotFound(
    `${kind}NotFound`,
    `A ${lower} with (name/id) ${id} was not found in this key vault. If you recently deleted this ${lower} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

export function deletedObjectNotFound(kind: ObjectKind, name: string): NotFound {
  return new NotFound(`${kind}NotFound`, `Deleted ${kind} not found: ${printable(name)}`);
}

export function translateStoreError(kind: ObjectKind, error: unknown, name: string): unknown {
  if (error instanceof NameIsDeleted) {
    return new Conflict(
      `${kind} ${printable(name)} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the ${kind.toLowerCase()} can only be recovered or purged.`,
      'ObjectIsDeletedButRecoverable',
    );
  }
  if (error instanceof ConcurrentUpdate) {
    return new Conflict(`There was a conflict while updating ${kind.toLowerCase()} ${printable(name)}; retry the request.`);
  }
  return error;
}
