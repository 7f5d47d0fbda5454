import type { ObjectKind } from '../core/kinds.ts';
import { recoveryLevel, type Vault } from '../vaults/vault.ts';
import type { DeletedHead, ObjectAttributes, Page } from './store.ts';

/** Wire shapes that secrets, keys and certificates share (reference §1, §2). */
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
