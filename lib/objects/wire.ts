import type { ObjectKind } from '../core/kinds.ts';
import { Conflict, NotFound } from '../core/errors.ts';
import { recoveryLevel, type Vault } from '../vaults/vault.ts';
import { printable } from './rules.ts';
import { ConcurrentUpdate, type DeletedHead, NameIsDeleted, type ObjectAttributes, type Page } from './store.ts';

/** Wire shapes and errors that secrets, keys and certificates share (reference §1, §2). */
export type { ObjectKind };

export interface AttributesWire {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  recoverableDays: number;
  recoveryLevel: string;
}

export interface DeletedFields {
  recoveryId: string;
  deletedDate: number;
  scheduledPurgeDate: number;
}

export function attributesWire(vault: Vault, attributes: ObjectAttributes): AttributesWire {
  return {
    enabled: attributes.enabled,
    ...(attributes.nbf !== undefined ? { nbf: attributes.nbf } : {}),
    ...(attributes.exp !== undefined ? { exp: attributes.exp } : {}),
    created: attributes.created,
    updated: attributes.updated,
    recoverableDays: vault.softDeleteRetentionDays,
    recoveryLevel: recoveryLevel(vault),
  };
}

/** `recoveryId` is `<vault>/deleted<collection>/<name>`, e.g. `/deletedkeys/my-key`. */
export function deletedFields(baseUrl: string, kind: ObjectKind, deleted: DeletedHead): DeletedFields {
  return {
    recoveryId: `${baseUrl}/deleted${kind.toLowerCase()}s/${deleted.name}`,
    deletedDate: deleted.deletedDate,
    scheduledPurgeDate: deleted.scheduledPurgeDate,
  };
}

/** A page of stored items turned into a page of wire items, keeping the store's cursor. */
export async function mapPage<T, U>(page: Page<T>, toWire: (item: T) => Promise<U>): Promise<Page<U>> {
  return { items: await Promise.all(page.items.map(toWire)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

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
