import type { CertificateDocumentKind } from '../../certificates/documents.ts';
import type { Collection } from '../../objects/store.ts';

/**
 * Where each item lives in the objects and audit tables (lib/aws/tables.ts describes the layout).
 * Object names are case-insensitive, so every key holds the lowercased name; inside a vault's objects
 * the vault name is used as given.
 */
export interface ItemKey {
  pk: string;
  sk: string;
}

function lower(name: string): string {
  return name.toLowerCase();
}

export function vaultKey(vault: string): ItemKey {
  return { pk: `VAULT#${lower(vault)}`, sk: 'VAULT' };
}

/** One partition per vault and collection, one item per live object: a list of heads is one Query. */
export function headPartition(vault: string, collection: Collection): string {
  return `${vault}#${collection}`;
}

/** Deleted heads in a partition of their own, so list pages of live heads need no filter. */
export function deletedPartition(vault: string, collection: Collection): string {
  return `${vault}#deleted${collection}`;
}

export function versionPartition(vault: string, collection: Collection, name: string): string {
  return `${vault}#${collection}#${lower(name)}`;
}

export function attachmentPartition(vault: string, collection: Collection, name: string): string {
  return `${vault}#${collection}-attachments#${lower(name)}`;
}

export function headKey(vault: string, collection: Collection, name: string): ItemKey {
  return { pk: headPartition(vault, collection), sk: lower(name) };
}

export function deletedKey(vault: string, collection: Collection, name: string): ItemKey {
  return { pk: deletedPartition(vault, collection), sk: lower(name) };
}

export function versionKey(vault: string, collection: Collection, name: string, version: string): ItemKey {
  return { pk: versionPartition(vault, collection, name), sk: version };
}

export function attachmentKey(vault: string, collection: Collection, name: string, attachment: string): ItemKey {
  return { pk: attachmentPartition(vault, collection, name), sk: attachment };
}

/**
 * A vault's scheduled work (lib/events/schedule.ts), one item per slot, in the vault's own partition:
 * purging the vault removes it with the vault's objects. The items that are due carry the due index's
 * attributes (lib/aws/tables.ts `dueIndex`).
 */
export function schedulePartition(vault: string): string {
  return `${vault}#schedule`;
}

export function dueItemKey(vault: string, slot: string): ItemKey {
  return { pk: schedulePartition(vault), sk: slot };
}

/**
 * A vault's Event Grid event subscriptions (lib/events/subscriptions.ts), one item per subscription
 * by its lowercased name, in the vault's own partition: listing is one Query, and purging the vault
 * removes them. The `_` is in no vault or object name, so IAM's `*#event_subscriptions` (the
 * control-plane partitions, infra/permissions.ts) matches no object's version partition.
 */
export function eventSubscriptionPartition(vault: string): string {
  return `${vault}#event_subscriptions`;
}

export function eventSubscriptionKey(vault: string, name: string): ItemKey {
  return { pk: eventSubscriptionPartition(vault), sk: lower(name) };
}

/**
 * A vault's certificate documents of one kind (its contacts, issuers, certificate operations), one
 * partition per kind: listing issuers is one Query, and purging the vault knows every partition.
 */
export function certificateDocumentPartition(vault: string, kind: CertificateDocumentKind): string {
  return `${vault}#certificate-${kind}`;
}

export function certificateDocumentKey(vault: string, kind: CertificateDocumentKind, name: string): ItemKey {
  return { pk: certificateDocumentPartition(vault, kind), sk: lower(name) };
}

/**
 * Audit records by vault and UTC day, in time order within the day: a lone record by its time and
 * request id, a pack of records (lib/audit/packs.ts) by its newest record's time and the pack's id.
 */
export function auditKey(vault: string, time: string, id: string): ItemKey {
  return { pk: auditPartitionKey(vault, time.slice(0, 10)), sk: `${time}#${id}` };
}

/** One vault's audit records of one UTC day (`YYYY-MM-DD`). */
export function auditPartitionKey(vault: string, day: string): string {
  return `${vault}#${day}`;
}

/** A resource group of a subscription: the subscription's groups are one Query on its partition. */
export function resourceGroupKey(subscriptionId: string, name: string): ItemKey {
  return { pk: resourceGroupPartition(subscriptionId), sk: `RG#${lower(name)}` };
}

export function resourceGroupPartition(subscriptionId: string): string {
  return `SUB#${lower(subscriptionId)}`;
}

/** A subscription's vaults, one index item per vault (its name), so listing is one Query. */
export function subscriptionVaultsPartition(subscriptionId: string): string {
  return `VAULTSUB#${lower(subscriptionId)}`;
}

/** A local vault endpoint's claim: at most one vault holds `host:port`. */
export function endpointKey(hostAndPort: string): ItemKey {
  return { pk: `HOST#${lower(hostAndPort)}`, sk: 'HOST' };
}

/** A management operation clients poll (a purge's), in its subscription's partition: reading it is one GetItem. */
export function operationKey(subscriptionId: string, operationId: string): ItemKey {
  return { pk: `OPERATION#${lower(subscriptionId)}`, sk: lower(operationId) };
}

/**
 * A managed HSM pool's local RBAC (lib/aws/dynamo-hsm-rbac.ts, docs/adr/0021): its role assignments
 * (`RA#<name>`) and custom role definitions (`RD#<guid>`) in one partition per pool, and each
 * assignment again in its principal's partition of the pool, so a decision is one Query.
 */
export function poolRbacPartition(pool: string): string {
  return `MHSMRBAC#${lower(pool)}`;
}

export function poolRbacPrincipalPartition(pool: string, principalId: string): string {
  return `${poolRbacPartition(pool)}#${lower(principalId)}`;
}

/** A managed HSM pool's settings (lib/aws/dynamo-pool-settings.ts, docs/adr/0022): one item per setting changed from its default. */
export function poolSettingsPartition(pool: string): string {
  return `MHSMSET#${lower(pool)}`;
}
