import { objectId } from '../core/ids.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { Page } from '../objects/store.ts';
import { type AttributesWire, attributesWire, type DeletedFields, deletedFields, mapPage, recordId } from '../objects/wire.ts';
import type { DeletedSecretRecord, SecretRecord } from './records.ts';

/** Azure's secret shapes (reference §1.1), built from the service's records and the vault's URL. */
export interface SecretBundle {
  value?: string;
  id: string;
  contentType?: string;
  attributes: AttributesWire;
  tags?: Record<string, string>;
  kid?: string;
  managed?: boolean;
}

export interface SecretItem {
  id: string;
  attributes: AttributesWire;
  tags?: Record<string, string>;
  contentType?: string;
  managed?: boolean;
}

export type DeletedSecretBundle = DeletedFields & SecretBundle;
export type DeletedSecretItem = SecretItem & DeletedFields;

export function secretBundle(at: VaultAddress, record: SecretRecord): SecretBundle {
  return {
    ...(record.value !== undefined ? { value: record.value } : {}),
    id: recordId(at, 'secrets', record, true),
    ...(record.contentType !== undefined ? { contentType: record.contentType } : {}),
    attributes: attributesWire(at.vault, record.attributes),
    ...(record.tags ? { tags: record.tags } : {}),
    ...kidOf(at, record),
    ...(record.managed ? { managed: true } : {}),
  };
}

/** A certificate's secret names its key, the same name and version (reference §1.3). */
function kidOf(at: VaultAddress, record: SecretRecord): Pick<SecretBundle, 'kid'> {
  if (record.kid !== undefined) return { kid: record.kid };
  return record.managed ? { kid: objectId(at.baseUrl, 'keys', record.name, record.version) } : {};
}

export function deletedSecretBundle(at: VaultAddress, record: DeletedSecretRecord): DeletedSecretBundle {
  return { ...deletedFields(at, 'secrets', record), ...secretBundle(at, record) };
}

/** `versioned` for a list of one secret's versions; a list of secrets names each secret only. */
function secretItem(at: VaultAddress, record: SecretRecord, versioned = false): SecretItem {
  return {
    id: recordId(at, 'secrets', record, versioned),
    attributes: attributesWire(at.vault, record.attributes),
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.contentType !== undefined ? { contentType: record.contentType } : {}),
    ...(record.managed ? { managed: true } : {}),
  };
}

function deletedSecretItem(at: VaultAddress, record: DeletedSecretRecord): DeletedSecretItem {
  return { ...secretItem(at, record), ...deletedFields(at, 'secrets', record) };
}

export function secretItemPage(at: VaultAddress, page: Page<SecretRecord>, versioned = false): Page<SecretItem> {
  return mapPage(page, (record) => secretItem(at, record, versioned));
}

export function deletedSecretItemPage(at: VaultAddress, page: Page<DeletedSecretRecord>): Page<DeletedSecretItem> {
  return mapPage(page, (record) => deletedSecretItem(at, record));
}
