import { deletedObjectId, objectId } from '../core/ids.ts';
import type { Collection } from '../core/kinds.ts';
import { recoveryLevel, type Vault, type VaultAddress } from '../vaults/vault.ts';
import type { DeletedDates, ObjectRecord } from './records.ts';
import type { ObjectAttributes, Page } from './store.ts';

/**
 * Wire shapes that secrets, keys and certificates share (reference §1, §2), built from records and
 * the vault's URL. Each kind's own shapes are in lib/<kind>/wire.ts.
 */
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

export interface BackupResult {
  value: string;
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

/** Bundles and version lists name the version; lists of objects name the object only. */
export function recordId(at: VaultAddress, collection: Collection, record: Pick<ObjectRecord, 'name' | 'version'>, versioned: boolean): string {
  return versioned ? objectId(at.baseUrl, collection, record.name, record.version) : objectId(at.baseUrl, collection, record.name);
}

/** `recoveryId` is `<vault>/deleted<collection>/<name>`, e.g. `/deletedkeys/my-key`. */
export function deletedFields(at: VaultAddress, collection: Collection, record: Pick<ObjectRecord, 'name'> & DeletedDates): DeletedFields {
  return {
    recoveryId: deletedObjectId(at.baseUrl, collection, record.name),
    deletedDate: record.deletedDate,
    scheduledPurgeDate: record.scheduledPurgeDate,
  };
}

/** A page of records turned into a page of wire items, keeping the store's cursor. */
export function mapPage<R, W>(page: Page<R>, toWire: (record: R) => W): Page<W> {
  return { items: page.items.map(toWire), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

export function backupResult(blob: string): BackupResult {
  return { value: blob };
}
