import { LRUCache } from 'lru-cache';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import { NotFound } from '../core/errors.ts';
import { pagingKeyContext, type Vault, type VaultStore } from './vault.ts';

/**
 * Finds the vault a request addresses (`<vault>.<vaultDomain>`, or a configured host alias) and keeps
 * vault records and their paging keys cached per container for a short time: one DynamoDB read per
 * vault per TTL instead of one per request. Role assignment changes take effect within that TTL.
 */
const VAULT_CACHE_TTL_MS = 10_000;

export class VaultDirectory {
  private readonly vaults = new LRUCache<string, Vault>({ max: 1_000, ttl: VAULT_CACHE_TTL_MS });
  private readonly pagingKeys = new LRUCache<string, Buffer>({ max: 1_000, ttl: 5 * 60_000, dispose: (k) => k.fill(0) });

  constructor(
    private readonly store: VaultStore,
    private readonly keys: DataKeyProvider,
    private readonly vaultDomain: string,
    private readonly hostAliases: Record<string, string>,
  ) {}

  /** The vault name a Host header names, or undefined. */
  vaultNameFor(host: string | undefined): string | undefined {
    if (!host) return undefined;
    const hostname = stripPort(host).toLowerCase();
    const alias = Object.entries(this.hostAliases).find(([h]) => h.toLowerCase() === hostname);
    if (alias) return alias[1];
    const suffix = `.${this.vaultDomain.toLowerCase()}`;
    if (!hostname.endsWith(suffix)) return undefined;
    const label = hostname.slice(0, -suffix.length);
    return /^[a-z0-9-]{3,24}$/.test(label) ? label : undefined;
  }

  async resolve(host: string | undefined): Promise<Vault> {
    const name = this.vaultNameFor(host);
    const vault = name ? await this.get(name) : undefined;
    if (!vault) throw new NotFound('VaultNotFound', 'No vault is served at this host name.');
    return vault;
  }

  async get(name: string): Promise<Vault | undefined> {
    const key = name.toLowerCase();
    const cached = this.vaults.get(key);
    if (cached) return cached;
    const vault = await this.store.getVault(key);
    if (vault) this.vaults.set(key, vault);
    return vault;
  }

  async pagingKey(vault: Vault): Promise<Buffer> {
    const cached = this.pagingKeys.get(vault.name);
    if (cached) return cached;
    const key = Buffer.from(await this.keys.decryptDataKey(vault.pagingKeyCiphertext, pagingKeyContext(vault.name)));
    this.pagingKeys.set(vault.name, key);
    return key;
  }

  forget(name: string): void {
    this.vaults.delete(name.toLowerCase());
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
