import { objectId } from '../core/ids.ts';
import type { Page } from '../objects/store.ts';
import { type AttributesWire, attributesWire, type DeletedFields, deletedFields, mapPage, recordId } from '../objects/wire.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { DeletedKeyRecord, KeyOperationRecord, KeyRecord, RotationPolicyRecord, VerifyRecord } from './records.ts';
import type { RotationPolicy } from './rotation.ts';

/** Azure's key shapes (reference §3), built from the service's records and the vault's URL. */
interface JsonWebKeyWire {
  kid: string;
  kty: string;
  key_ops: string[];
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

type KeyAttributesWire = AttributesWire & { exportable: boolean; hsmPlatform?: string };

export interface KeyBundle {
  key: JsonWebKeyWire;
  attributes: KeyAttributesWire;
  tags?: Record<string, string>;
  managed?: boolean;
}

export interface KeyItem {
  kid: string;
  attributes: KeyAttributesWire;
  tags?: Record<string, string>;
  managed?: boolean;
}

export type DeletedKeyBundle = DeletedFields & KeyBundle;
export type DeletedKeyItem = KeyItem & DeletedFields;

export interface KeyOperationResult {
  kid: string;
  value: string;
  /** AES-GCM (a managed HSM pool's keys): the iv, authentication tag and additional data, base64url. */
  iv?: string;
  tag?: string;
  aad?: string;
}

export interface KeyVerifyResult {
  value: boolean;
}

export interface RandomBytes {
  value: string;
}

export function keyBundle(at: VaultAddress, record: KeyRecord): KeyBundle {
  return {
    key: {
      ...record.publicKey,
      kid: recordId(at, 'keys', record, true),
      // The stored kty keeps the -HSM suffix the public JWK drops.
      kty: record.kty,
      key_ops: record.keyOps,
    } as JsonWebKeyWire,
    attributes: keyAttributes(at, record),
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.managed ? { managed: true } : {}),
  };
}

export function deletedKeyBundle(at: VaultAddress, record: DeletedKeyRecord): DeletedKeyBundle {
  return { ...deletedFields(at, 'keys', record), ...keyBundle(at, record) };
}

/** `versioned` for a list of one key's versions; a list of keys names each key only. */
function keyItem(at: VaultAddress, record: KeyRecord, versioned = false): KeyItem {
  return {
    kid: recordId(at, 'keys', record, versioned),
    attributes: keyAttributes(at, record),
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.managed ? { managed: true } : {}),
  };
}

function deletedKeyItem(at: VaultAddress, record: DeletedKeyRecord): DeletedKeyItem {
  return { ...keyItem(at, record), ...deletedFields(at, 'keys', record) };
}

export function keyItemPage(at: VaultAddress, page: Page<KeyRecord>, versioned = false): Page<KeyItem> {
  return mapPage(page, (record) => keyItem(at, record, versioned));
}

export function deletedKeyItemPage(at: VaultAddress, page: Page<DeletedKeyRecord>): Page<DeletedKeyItem> {
  return mapPage(page, (record) => deletedKeyItem(at, record));
}

/** encrypt, decrypt, wrapKey, unwrapKey and sign name the version that did it; verify answers the verdict. */
export function keyOperationResult(at: VaultAddress, record: KeyOperationRecord): KeyOperationResult;
export function keyOperationResult(at: VaultAddress, record: VerifyRecord): KeyVerifyResult;
export function keyOperationResult(at: VaultAddress, record: KeyOperationRecord | VerifyRecord): KeyOperationResult | KeyVerifyResult;
export function keyOperationResult(at: VaultAddress, record: KeyOperationRecord | VerifyRecord): KeyOperationResult | KeyVerifyResult {
  if ('valid' in record) return { value: record.valid };
  const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return {
    kid: recordId(at, 'keys', record, true),
    value: base64url(record.result),
    ...(record.iv ? { iv: base64url(record.iv) } : {}),
    ...(record.tag ? { tag: base64url(record.tag) } : {}),
    ...(record.aad ? { aad: base64url(record.aad) } : {}),
  };
}

export function rotationPolicyWire(at: VaultAddress, record: RotationPolicyRecord): RotationPolicy {
  return { ...record.policy, id: `${objectId(at.baseUrl, 'keys', record.name)}/rotationpolicy` };
}

export function randomBytesResult(bytes: Uint8Array): RandomBytes {
  return { value: Buffer.from(bytes).toString('base64url') };
}

function keyAttributes(at: VaultAddress, record: KeyRecord): KeyAttributesWire {
  return { ...attributesWire(at.vault, record.attributes), exportable: false, ...(record.hsmBacked ? { hsmPlatform: '2' } : {}) };
}
