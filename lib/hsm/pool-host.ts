import { LRUCache } from 'lru-cache';
import { EXPIRING_CACHE } from '../core/caches.ts';
import { NotFound, VaultError } from '../core/errors.ts';
import { parseHost } from '../vaults/directory.ts';
import { MANAGED_HSM_SUBDOMAIN, type ManagedHsmPool, type PoolStore } from './pools.ts';

/**
 * Which pool a request to a pool's data plane addresses (docs/adr/0022-pool-data-plane.md): its
 * claimed local endpoint (`localhost:<port>`, its `hsmUri` on the local stack), or
 * `<pool>.managedhsm.<vault domain>` with any port (its `hsmUri` in AWS; locally the same name on its
 * endpoint's port, so a client that checks the challenge's resource against the host can). A pool's
 * record is cached per container as a vault's is, for as long.
 */
const POOL_CACHE_TTL_MS = 10_000;

export interface PoolAddress {
  pool: ManagedHsmPool;
  /** The pool's canonical URL, which the answers' ids and the audit record's request URI are built on. */
  baseUrl: string;
}

/**
 * Pools purged in this process, for the pool hosts of other composition roots in it. In AWS each
 * function has one root and this reaches nobody (another container's cache keeps a purged pool at
 * most its 10 s). The local gateway runs every root in one process: the management root's purge
 * tells the data plane's pool host, so a pool made right after on the freed endpoint, or under the
 * same name, is never answered from the purged pool's cached record.
 */
const purgeListeners = new Set<(name: string) => void>();

export function onPoolPurge(listener: (name: string) => void): void {
  purgeListeners.add(listener);
}

export function announcePoolPurge(name: string): void {
  for (const listener of purgeListeners) listener(name);
}

export class PoolHost {
  private readonly pools = new LRUCache<string, ManagedHsmPool>({ max: 1_000, ttl: POOL_CACHE_TTL_MS, ...EXPIRING_CACHE });
  private readonly endpoints = new LRUCache<string, string>({ max: 1_000, ttl: POOL_CACHE_TTL_MS, ...EXPIRING_CACHE });
  /** The local endpoint pool by lower-case `host:port`, as the vault directory reads it. */
  private readonly endpointOrigins: ReadonlyMap<string, string>;

  constructor(
    private readonly store: Pick<PoolStore, 'getPool' | 'poolAtEndpoint'>,
    private readonly vaultDomain: string,
    endpoints: readonly string[] = [],
  ) {
    this.endpointOrigins = new Map(endpoints.map((url) => new URL(url)).map((url) => [url.host.toLowerCase(), url.origin]));
  }

  /**
   * The live pool the Host header names and its canonical URL; Managed HSM's 404 for any other host,
   * a soft-deleted pool, and an endpoint no pool holds (or a vault holds). A Host that is not a host
   * name with an optional port is a 400 before any store call.
   */
  async locate(rawHost: string | undefined): Promise<PoolAddress> {
    const host = parseHost(rawHost, this.vaultDomain);
    const endpointOrigin = this.endpointOrigins.get(host.host);
    if (endpointOrigin) return this.atEndpoint(host.host, endpointOrigin);
    const name = this.poolNameFor(host.hostname);
    const portSuffix = host.port === undefined ? '' : `:${host.port}`;
    return this.served(name, `https://${name}.${MANAGED_HSM_SUBDOMAIN}.${this.vaultDomain.toLowerCase()}${portSuffix}`);
  }

  /** A live pool by name (cached); a soft-deleted or purged pool is not found. */
  async get(name: string): Promise<ManagedHsmPool | undefined> {
    const key = name.toLowerCase();
    const cached = this.pools.get(key);
    if (cached) return cached;
    const pool = await this.store.getPool(key);
    if (!pool || pool.deleted) return undefined;
    this.pools.set(key, pool);
    return pool;
  }

  /** After the pool changed (activated, deleted, purged) in this container. */
  forget(name: string): void {
    const key = name.toLowerCase();
    this.pools.delete(key);
    for (const [endpoint, pool] of this.endpoints.entries()) if (pool === key) this.endpoints.delete(endpoint);
  }

  private poolNameFor(hostname: string): string | undefined {
    const suffix = `.${MANAGED_HSM_SUBDOMAIN}.${this.vaultDomain.toLowerCase()}`;
    if (!hostname.endsWith(suffix)) return undefined;
    const label = hostname.slice(0, -suffix.length);
    return /^[a-z0-9-]{3,24}$/.test(label) ? label : undefined;
  }

  /**
   * The pool that holds the endpoint now. A purge frees its endpoint and a new pool may claim it (or
   * a pool of the same name another one) within the caches' 10 s: an endpoint's cached claim, or a
   * name's cached record, that does not agree with the other is read again once, so a request never
   * reaches a pool through an endpoint that pool no longer holds.
   */
  private async atEndpoint(host: string, origin: string): Promise<PoolAddress> {
    for (let reread = false; ; reread = true) {
      const name = await this.endpointPool(host);
      const pool = name ? await this.get(name) : undefined;
      if (pool && new URL(pool.hsmUri).host.toLowerCase() === host) return { pool, baseUrl: origin };
      if (reread) throw poolNotFound();
      this.endpoints.delete(host);
      if (name) this.pools.delete(name);
    }
  }

  private async endpointPool(host: string): Promise<string | undefined> {
    const cached = this.endpoints.get(host);
    if (cached) return cached;
    const name = await this.store.poolAtEndpoint(host);
    if (name) this.endpoints.set(host, name);
    return name;
  }

  private async served(name: string | undefined, baseUrl: string): Promise<PoolAddress> {
    const pool = name ? await this.get(name) : undefined;
    if (!pool) throw poolNotFound();
    return { pool, baseUrl };
  }
}

/**
 * What a pool's key operations ask first (the keys-on-pools slice): a pool is used for cryptography
 * only once its security domain was downloaded (or uploaded). The refusal is a 403 naming the
 * activation as the pool's record words it; Managed HSM's own code for it is not recorded anywhere
 * Coffer could read, so the code is Key Vault's `Forbidden` with the inner code `HsmNotActivated`.
 */
export function assertPoolActive(pool: Pick<ManagedHsmPool, 'name' | 'activation'>): void {
  if (pool.activation.status === 'Active') return;
  throw new VaultError(403, 'Forbidden', `The managed HSM '${pool.name}' is not activated. ${pool.activation.message}`, 'HsmNotActivated');
}

function poolNotFound(): NotFound {
  return new NotFound('ManagedHsmNotFound', 'No managed HSM pool is served at this host name.');
}

/** The audit partition of a pool's data-plane requests: beside the vaults', never one of theirs (a vault name has no slash). */
export function poolAuditPartition(name: string): string {
  return `managedhsms/${name.toLowerCase()}`;
}
