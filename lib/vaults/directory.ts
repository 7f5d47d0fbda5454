import { LRUCache } from 'lru-cache';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import { BadParameter, NotFound } from '../core/errors.ts';
import { pagingKeyContext, type Vault, type VaultAddress, type VaultStore } from './vault.ts';
import { EXPIRING_CACHE } from '../core/caches.ts';

/**
 * Finds the vault a request addresses (a claimed local endpoint `host:port`, a configured host alias,
 * or `<vault>.<vaultDomain>`) and keeps
 * vault records and their paging keys cached per container for a short time: one DynamoDB read per
 * vault per TTL instead of one per request. Role assignment changes take effect within that TTL.
 */
const VAULT_CACHE_TTL_MS = 10_000;

export class VaultDirectory {
  private readonly vaults = new LRUCache<string, Vault>({ max: 1_000, ttl: VAULT_CACHE_TTL_MS, ...EXPIRING_CACHE });
  /** Which vault a local endpoint serves: claims change only when a vault is created or purged. */
  private readonly endpoints = new LRUCache<string, string>({ max: 1_000, ttl: VAULT_CACHE_TTL_MS, ...EXPIRING_CACHE });
  private readonly pagingKeys = new LRUCache<string, Buffer>({ max: 1_000, ttl: 5 * 60_000, dispose: (k) => k.fill(0), ...EXPIRING_CACHE });
  /** The local endpoint pool by lower-case `host:port`, parsed once: each request looks its Host up. */
  private readonly endpointOrigins: ReadonlyMap<string, string>;

  constructor(
    private readonly store: VaultStore,
    private readonly keys: DataKeyProvider,
    private readonly vaultDomain: string,
    private readonly hostAliases: Record<string, string>,
    /** The local endpoint pool (COFFER_VAULT_ENDPOINTS); empty where vault host names resolve. */
    vaultEndpoints: readonly string[] = [],
  ) {
    this.endpointOrigins = new Map(
      vaultEndpoints
        .map((url) => new URL(url))
        .reverse()
        .map((url) => [url.host.toLowerCase(), url.origin]),
    );
  }

  /**
   * The vault a Host header names and the vault's canonical URL, which every object id and nextLink
   * is built on: the configured spelling of the endpoint, alias or vault domain, never the header's
   * text. A Host that is not a host name with an optional port is a 400 before any store call.
   */
  async locate(rawHost: string | undefined): Promise<VaultAddress> {
    const host = parseHost(rawHost, this.vaultDomain);
    const portSuffix = host.port === undefined ? '' : `:${host.port}`;
    const endpointOrigin = this.endpointOrigins.get(host.host);
    if (endpointOrigin) {
      // A pool endpoint serves only the vault that claimed it: an unclaimed one is nobody's, not the default vault.
      const name = await this.endpointVault(host.host);
      return this.served(name, endpointOrigin);
    }
    const alias = Object.entries(this.hostAliases).find(([h]) => h.toLowerCase() === host.hostname);
    if (alias) return this.served(alias[1], `https://${alias[0].toLowerCase()}${portSuffix}`);
    const name = this.vaultNameFor(host.hostname);
    return this.served(name, `https://${name}.${this.vaultDomain.toLowerCase()}${portSuffix}`);
  }

  async resolve(host: string | undefined): Promise<Vault> {
    return (await this.locate(host)).vault;
  }

  /** The vault label of `<vault>.<vault domain>`, or undefined. */
  private vaultNameFor(hostname: string): string | undefined {
    const suffix = `.${this.vaultDomain.toLowerCase()}`;
    if (!hostname.endsWith(suffix)) return undefined;
    const label = hostname.slice(0, -suffix.length);
    return /^[a-z0-9-]{3,24}$/.test(label) ? label : undefined;
  }

  private async served(name: string | undefined, baseUrl: string): Promise<VaultAddress> {
    const vault = name ? await this.get(name) : undefined;
    if (!vault) throw new NotFound('VaultNotFound', 'No vault is served at this host name.');
    return { vault, baseUrl };
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

  private async endpointVault(host: string): Promise<string | undefined> {
    const cached = this.endpoints.get(host);
    if (cached) return cached;
    const name = await this.store.vaultAtEndpoint(host);
    if (name) this.endpoints.set(host, name);
    return name;
  }

  /**
   * The vault's paging key, as a copy of the cached one: the cache zero-fills its own copy when the
   * entry expires or is replaced (two requests that both missed set it twice), which can happen while
   * a request still signs or opens a `$skiptoken` with the key it was handed. Handing out the cache's
   * buffer itself let such a request sign with zeros, so its nextLink was refused later.
   */
  async pagingKey(vault: Vault): Promise<Buffer> {
    const cached = this.pagingKeys.get(vault.name);
    if (cached) return Buffer.from(cached);
    const key = Buffer.from(await this.keys.decryptDataKey(vault.pagingKeyCiphertext, pagingKeyContext(vault.name)));
    this.pagingKeys.set(vault.name, Buffer.from(key));
    return key;
  }

  forget(name: string): void {
    this.vaults.delete(name.toLowerCase());
    // A purged vault's endpoint may be claimed by the next vault.
    for (const [endpoint, vault] of this.endpoints.entries()) if (vault === name.toLowerCase()) this.endpoints.delete(endpoint);
  }
}

/** A Host header as the directory reads it: lowercased, without a trailing dot or the default port. */
export interface RequestedHost {
  /** The name: DNS labels (an IPv4 address is four numeric labels). */
  hostname: string;
  /** Absent for no port and for 443, the port every HTTPS URL implies. */
  port?: number;
  /** `hostname[:port]`, as the directory and the local endpoint claims compare it. */
  host: string;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/**
 * Labels, an optional trailing dot, an optional port with no leading zero: no userinfo, path, query,
 * spaces, second port, bracketed IPv6 literal or anything else a URL built on the host could be bent by.
 */
const HOST_SHAPE = new RegExp(`^(${LABEL}(?:\\.${LABEL})*)(\\.)?(?::([1-9][0-9]{0,4}))?$`);
const MAX_HOSTNAME_LENGTH = 253;

// Made only when thrown: an error's stack trace costs more than the rest of parseHost. A function of
// its own rather than a closure made on every call.
const refused = () => new BadParameter("The request's Host header must be a host name with an optional port.");

/**
 * Reads a Host header strictly. `vaultDomain`: a fully qualified `<vault>.<vault domain>.` (trailing
 * dot) is that vault; a trailing dot on any other name is refused, as no alias or endpoint is spelled so.
 * Anything else is a 400 that does not repeat the header (it may be built to be reflected).
 */
export function parseHost(raw: string | undefined, vaultDomain?: string): RequestedHost {
  if (!raw || raw.length > MAX_HOSTNAME_LENGTH + 7) throw refused();
  const match = HOST_SHAPE.exec(raw.toLowerCase());
  if (!match) throw refused();
  const [, hostname = '', trailingDot, portText] = match;
  if (hostname.length > MAX_HOSTNAME_LENGTH) throw refused();
  if (trailingDot && !(vaultDomain && hostname.endsWith(`.${vaultDomain.toLowerCase()}`))) throw refused();
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && port > 65_535) throw refused();
  const significantPort = port === 443 ? undefined : port;
  return {
    hostname,
    ...(significantPort === undefined ? {} : { port: significantPort }),
    host: significantPort === undefined ? hostname : `${hostname}:${significantPort}`,
  };
}
