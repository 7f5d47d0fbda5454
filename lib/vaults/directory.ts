import { LRUCache } from 'lru-cache';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import { NotFound } from '../core/errors.ts';
import { pagingKeyContext, type Vault, type VaultStore } from './vault.ts';

/**
 * Finds the vault a request addresses (a claimed local endpoint `host:port`, a configured host alias,
 * or `<vault>.<vaultDomain>`) and keeps
 * vault records and their paging keys cached per container for a short time: one DynamoDB read per
 * vault per TTL instead of one per request. Role assignment changes take effect within that TTL.
 */
const VAULT_CACHE_TTL_MS = 10_000;

export class VaultDirectory {
  private readonly vaults = new LRUCache<string, Vault>({ max: 1_000, ttl: VAULT_CACHE_TTL_MS });
  /** Which vault a local endpoint serves: claims change only when a vault is created or purged. */
  private readonly endpoints = new LRUCache<string, string>({ max: 1_000, ttl: VAULT_CACHE_TTL_MS });
  private readonly pagingKeys = new LRUCache<string, Buffer>({ max: 1_000, ttl: 5 * 60_000, dispose: (k) => k.fill(0) });

  constructor(
    private readonly store: VaultStore,
    private readonly keys: DataKeyProvider,
    private readonly vaultDomain: string,
    private readonly hostAliases: Record<string, string>,
    /** The local endpoint pool (COFFER_VAULT_ENDPOINTS); empty where vault host names resolve. */
    private readonly vaultEndpoints: readonly string[] = [],
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
    const name = (await this.endpointVault(host)) ?? this.vaultNameFor(host);
    const vault = name ? await this.get(name) : undefined;
    if (!vault) throw new NotFound('VaultNotFound', 'No vault is served at this host name.');
    return vault;
  }

  /** A live vault by name; a soft-deleted vault is not found. */
  async get(name: string): Promise<Vault | undefined> {
    const key = name.toLowerCase();
    const cached = this.vaults.get(key);
    if (cached) return cached;
    const vault = await this.store.getVault(key);
    if (!vault || vault.deleted) return undefined;
    this.vaults.set(key, vault);
    return vault;
  }

  private async endpointVault(host: string | undefined): Promise<string | undefined> {
    if (!host || this.vaultEndpoints.length === 0) return undefined;
    const key = host.toLowerCase();
    if (!this.vaultEndpoints.some((url) => new URL(url).host.toLowerCase() === key)) return undefined;
    const cached = this.endpoints.get(key);
    if (cached) return cached;
    const name = await this.store.vaultAtEndpoint(key);
    if (name) this.endpoints.set(key, name);
    return name;
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
    // A purged vault's endpoint may be claimed by the next vault.
    for (const [endpoint, vault] of this.endpoints.entries()) if (vault === name.toLowerCase()) this.endpoints.delete(endpoint);
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
