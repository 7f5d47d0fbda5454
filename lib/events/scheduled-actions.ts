import type { CertificateService } from '../certificates/certificates.ts';
import type { CertificateIssuance } from '../certificates/issuance.ts';
import type { KeyService } from '../keys/keys.ts';
import type { SecretService } from '../secrets/secrets.ts';
import type { Vault, VaultAddress } from '../vaults/vault.ts';
import type { ScheduledActions } from './scheduler.ts';
import type { DueWork } from './schedule.ts';

/** What the scheduler's work is done with: the services' own public operations, as a request would call them. */
export interface ActionServices {
  secrets: Pick<SecretService, 'purge'>;
  keys: Pick<KeyService, 'rotate' | 'purge'>;
  certificates: Pick<CertificateService, 'purge'>;
  issuance: Pick<CertificateIssuance, 'create'>;
  vaults: { purge(subscriptionId: string, location: string, name: string): Promise<void> };
}

function addressOf(vault: Vault): VaultAddress {
  return { vault, baseUrl: vault.vaultUri.replace(/\/+$/, '') };
}

export class ServiceActions implements ScheduledActions {
  constructor(private readonly services: ActionServices) {}

  async rotateKey(vault: Vault, name: string): Promise<string> {
    return (await this.services.keys.rotate(addressOf(vault), name)).version;
  }

  async renewCertificate(vault: Vault, name: string): Promise<void> {
    // No policy given: the certificate's stored policy makes the new version (as Key Vault's AutoRenew does).
    await this.services.issuance.create(addressOf(vault), name, {});
  }

  async purgeObject(vault: Vault, work: Extract<DueWork, { kind: 'purge' }>): Promise<void> {
    // Purge protection forbids a caller's purge before the scheduled purge date, not the purge at that
    // date (reference §7: "the system purges the object then"); the scheduler calls this only once the
    // date has passed, so the services' manual-purge check is answered for the vault as it stands then.
    const at = addressOf({ ...vault, purgeProtection: false });
    if (work.collection === 'secrets') await this.services.secrets.purge(at, work.name);
    else if (work.collection === 'keys') await this.services.keys.purge(at, work.name);
    else await this.services.certificates.purge(at, work.name);
  }

  async purgeVault(vault: Vault): Promise<void> {
    // The vault's purge allows a protected vault once its scheduled purge date has passed.
    await this.services.vaults.purge(vault.subscriptionId, vault.location, vault.name);
  }
}
