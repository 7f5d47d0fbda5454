import type { KeyVaultSecret, SecretClient } from '@azure/keyvault-secrets';
import type { RotationSecretStore, StoredSecret } from './rotation.ts';

/**
 * The rotator's vault: the official SecretClient, authenticated with the rotator's own TokenCredential,
 * so every read and write is authorized by the vault's roles (Key Vault Secrets Officer on the
 * rotated secrets, docs/rotation.md) and audited like any application's.
 */
export class KeyVaultSecretStore implements RotationSecretStore {
  constructor(private readonly client: SecretClient) {}

  async current(name: string): Promise<StoredSecret> {
    return stored(await this.client.getSecret(name));
  }

  async addVersion(
    name: string,
    value: string,
    properties: { contentType?: string; expiresOn: Date; tags: Record<string, string> },
  ): Promise<StoredSecret> {
    return stored(await this.client.setSecret(name, value, properties));
  }
}

function stored(secret: KeyVaultSecret): StoredSecret {
  const { name, version, contentType, expiresOn, tags } = secret.properties;
  if (!version || secret.value === undefined) throw new Error(`the vault answered secret ${name} without a version or value`);
  return {
    name,
    version,
    value: secret.value,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(expiresOn !== undefined ? { expiresOn } : {}),
    tags: tags ?? {},
  };
}
