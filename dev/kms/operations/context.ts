/**
 * What every operation shares: the key store, the region and account that every ARN names, how a
 * KeyId member finds its key, and the key-state rules KMS applies before any operation.
 */
import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { KmsError, kmsError } from '../errors.ts';
import type { Input } from '../input.ts';
import { encryptionAlgorithmsFor, signingAlgorithmsFor } from '../specs.ts';
import type { KeyRecord, KeyStore } from '../store.ts';

/** An operation's output: the JSON 1.1 members exactly as the AWS SDK expects them, blobs as Buffers. */
export type Response = Record<string, unknown>;
export type Operation = (input: Input) => Response | Promise<Response>;
export type Operations = Record<string, Operation>;

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_PLAINTEXT = 4096;
export const MAX_CIPHERTEXT = 6144;

export class KmsContext {
  constructor(
    readonly store: KeyStore,
    readonly region: string,
    readonly accountId: string,
  ) {}

  /** Any KeyId member: key id, key ARN, alias name or alias ARN, as KMS accepts them. */
  resolve(identifier: string): KeyRecord {
    let target = identifier;
    if (identifier.startsWith('arn:')) {
      const [, partition, service, region, account, ...rest] = identifier.split(':');
      const resource = rest.join(':');
      if (partition !== 'aws' || service !== 'kms' || region !== this.region || account !== this.accountId) {
        throw kmsError('NotFoundException', `Invalid arn ${identifier}: not a KMS resource in ${this.region}/${this.accountId}.`);
      }
      if (resource.startsWith('key/')) target = resource.slice('key/'.length);
      else if (resource.startsWith('alias/')) target = resource;
      else throw kmsError('NotFoundException', `Invalid arn ${identifier}`);
    }
    if (target.startsWith('alias/')) {
      const alias = this.store.aliases.get(target);
      const key = alias && this.store.keys.get(alias.targetKeyId);
      if (!key) throw kmsError('NotFoundException', `Alias ${this.aliasArn(target)} is not found.`);
      return key;
    }
    const key = this.store.keys.get(target);
    if (!key) throw kmsError('NotFoundException', `Key '${this.keyArn(target)}' does not exist`);
    return key;
  }

  /** The key-state rules KMS applies to every cryptographic operation. */
  requireUsable(key: KeyRecord): void {
    const arn = this.keyArn(key.keyId);
    if (key.state === 'Disabled') throw kmsError('DisabledException', `${arn} is disabled.`);
    if (key.state === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
    if (key.state === 'PendingImport' || !key.material) throw kmsError('KMSInvalidStateException', `${arn} is pending import.`);
  }

  refusePendingDeletion(key: KeyRecord): void {
    if (key.state === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is pending deletion.`);
  }

  refuseRecipient(input: Input): void {
    if (input.has('Recipient')) {
      throw kmsError('UnsupportedOperationException', 'The local KMS does not implement Nitro Enclaves attestation (Recipient).');
    }
  }

  /** DryRun answers as KMS does once everything has been checked: with an error, not a result. */
  dryRun(input: Input): void {
    if (input.boolean('DryRun')) {
      throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
    }
  }

  privateKey(key: KeyRecord): KeyObject {
    return createPrivateKey({ key: this.store.openMaterial(key), format: 'der', type: 'pkcs8' });
  }

  metadata(key: KeyRecord): Response {
    const encryption = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
    const signing = signingAlgorithmsFor(key.keySpec, key.keyUsage);
    return {
      AWSAccountId: this.accountId,
      KeyId: key.keyId,
      Arn: this.keyArn(key.keyId),
      CreationDate: seconds(key.createdAt),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: key.keyUsage,
      KeyState: key.state,
      ...(key.deletionDate !== undefined ? { DeletionDate: seconds(key.deletionDate) } : {}),
      ...(key.validTo !== undefined ? { ValidTo: seconds(key.validTo) } : {}),
      Origin: key.origin,
      ...(key.origin === 'EXTERNAL' && key.expirationModel ? { ExpirationModel: key.expirationModel } : {}),
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      ...(encryption ? { EncryptionAlgorithms: encryption } : {}),
      ...(signing ? { SigningAlgorithms: signing } : {}),
      MultiRegion: false,
      ...(key.pendingWindowInDays !== undefined ? { PendingDeletionWindowInDays: key.pendingWindowInDays } : {}),
    };
  }

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }
}

export /**
 * Marker paging over a sorted list. The marker is the sort key of the last item returned, so a page
 * boundary stays put when items before it are added or removed.
 */
function page<T>(all: T[], sortKey: (item: T) => string, limit: number, marker: string | undefined): { items: T[]; nextMarker?: string } {
  const sorted = [...all].sort((a, b) => compare(sortKey(a), sortKey(b)));
  let start = 0;
  if (marker !== undefined) {
    const after = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
    if (!after) throw kmsError('InvalidMarkerException', 'The marker is not one this service returned.');
    start = sorted.findIndex((item) => compare(sortKey(item), after) > 0);
    if (start === -1) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  const truncated = start + limit < sorted.length && last !== undefined;
  return truncated ? { items, nextMarker: Buffer.from(sortKey(last), 'utf8').toString('base64url') } : { items };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function seconds(epochMs: number): number {
  return epochMs / 1000;
}
