import type { EnvelopeCipher } from '../crypto/envelope.ts';
import { objectKeyScope, type Vault } from '../vaults/vault.ts';
import type { Collection } from './store.ts';

/**
 * Seals and opens the user content of vault objects. Each blob is bound to its vault (KMS encryption
 * context) and to its exact place (vault, collection, name, version, field as GCM additional data).
 */
export type SealedField = 'meta' | 'secret';

export interface ObjectPlace {
  collection: Collection;
  name: string;
  version: string;
}

export class ObjectSealer {
  constructor(private readonly cipher: EnvelopeCipher) {}

  async seal(vault: Vault, place: ObjectPlace, field: SealedField, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.cipher.encrypt(objectKeyScope(vault), aad(vault, place, field), plaintext);
  }

  async open(vault: Vault, place: ObjectPlace, field: SealedField, blob: Uint8Array): Promise<Buffer> {
    return this.cipher.decrypt(objectKeyScope(vault), aad(vault, place, field), blob);
  }

  async sealJson(vault: Vault, place: ObjectPlace, field: SealedField, value: unknown): Promise<Uint8Array> {
    return this.seal(vault, place, field, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  async openJson<T>(vault: Vault, place: ObjectPlace, field: SealedField, blob: Uint8Array): Promise<T> {
    return JSON.parse((await this.open(vault, place, field, blob)).toString('utf8')) as T;
  }
}

function aad(vault: Vault, place: ObjectPlace, field: SealedField): string {
  return ['coffer', 'v1', vault.name.toLowerCase(), place.collection, place.name.toLowerCase(), place.version, field].join('/');
}
