import { type Deleted, managedOf, type ObjectRecord } from '../objects/records.ts';
import type { StoredVersion } from '../objects/store.ts';

/** What a secret version stores sealed besides its value. */
export interface SecretMeta {
  contentType?: string;
  tags?: Record<string, string>;
}

/** A secret version as the service answers it; `value` only where the operation returns it (get, set). */
export interface SecretRecord extends ObjectRecord {
  contentType?: string;
  value?: string;
  /** The key of the certificate this secret belongs to. */
  kid?: string;
}

export type DeletedSecretRecord = Deleted<SecretRecord>;

export function secretRecord(version: StoredVersion, meta: SecretMeta, value?: string): SecretRecord {
  return {
    name: version.name,
    version: version.version,
    attributes: version.attributes,
    ...(meta.contentType !== undefined ? { contentType: meta.contentType } : {}),
    ...(meta.tags ? { tags: meta.tags } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(typeof version.plain.kid === 'string' ? { kid: version.plain.kid } : {}),
    ...managedOf(version),
  };
}

export function secretMeta(contentType: string | null | undefined, tags: Record<string, string> | null | undefined): SecretMeta {
  return {
    ...(contentType != null ? { contentType } : {}),
    ...(tags != null ? { tags } : {}),
  };
}
