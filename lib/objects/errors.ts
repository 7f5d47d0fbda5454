import { Conflict, Forbidden, NotFound } from '../core/errors.ts';
import type { ObjectKind } from '../core/kinds.ts';
import { printable } from './rules.ts';
import { ConcurrentUpdate, ManagedObject, NameIsDeleted } from './store.ts';

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

/**
 * A certificate's key or secret changes only with its certificate: Azure refuses a direct write with
 * 403 SecretManagedByKeyVault / KeyManagedByKeyVault, naming the operation (set, delete, rotate, ...).
 */
export function objectManaged(kind: ObjectKind, operation: string | undefined): Forbidden {
  // Without the word (a caller that did not say) the sentence still reads, and the codes are Azure's.
  const named = operation === undefined ? 'This operation' : `Operation "${operation}"`;
  return new Forbidden(`${named} is not allowed as this object's lifetime is managed by Key Vault.`, `${kind}ManagedByKeyVault`);
}

/**
 * A store error as Azure's answer. `operation` is the word a refused write of a managed object is
 * named by: the store does not know which request it serves, so the caller says.
 */
export function translateStoreError(kind: ObjectKind, error: unknown, name: string, operation?: string): unknown {
  if (error instanceof ManagedObject) return objectManaged(kind, operation);
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
