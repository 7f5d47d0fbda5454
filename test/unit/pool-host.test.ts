import { describe, expect, it } from 'vitest';
import { assertPoolActive, PoolHost } from '../../lib/hsm/pool-host.ts';
import { type ManagedHsmPool, NOT_ACTIVATED_MESSAGE } from '../../lib/hsm/pools.ts';

/**
 * Which pool a host names (docs/adr/0022): a claimed local endpoint, or `<pool>.managedhsm.<vault
 * domain>` on any port, each with its canonical URL; Managed HSM's 404 for anything else and for a
 * soft-deleted pool; and the activation check the pool's key operations ask first.
 */
const pool = (name: string, extra: Partial<ManagedHsmPool> = {}) =>
  ({ name, deleted: undefined, activation: { status: 'NotActivated', message: NOT_ACTIVATED_MESSAGE }, ...extra }) as unknown as ManagedHsmPool;

function host(pools: Record<string, ManagedHsmPool>, endpoints: Record<string, string> = {}) {
  let reads = 0;
  const store = {
    getPool: async (name: string) => {
      reads++;
      return pools[name];
    },
    poolAtEndpoint: async (hostAndPort: string) => endpoints[hostAndPort],
  };
  return { host: new PoolHost(store, 'vault.localhost', ['https://localhost:9001', 'https://localhost:9002']), reads: () => reads };
}

describe('a pool host', () => {
  it('finds the pool by its claimed endpoint and by its name, with its canonical URL, and caches the record', async () => {
    const { host: pools, reads } = host({ pool1: pool('pool1', { hsmUri: 'https://localhost:9001/' }) }, { 'localhost:9001': 'pool1' });
    expect(await pools.locate('LOCALHOST:9001')).toMatchObject({ pool: { name: 'pool1' }, baseUrl: 'https://localhost:9001' });
    expect(await pools.locate('Pool1.managedhsm.vault.localhost:9001')).toMatchObject({
      baseUrl: 'https://pool1.managedhsm.vault.localhost:9001',
    });
    expect(await pools.locate('pool1.managedhsm.vault.localhost')).toMatchObject({ baseUrl: 'https://pool1.managedhsm.vault.localhost' });
    expect(reads()).toBe(1);
  });

  it('answers 404 for an unclaimed endpoint, a vault host, an unknown or deleted pool, and 400 for a malformed host', async () => {
    const { host: pools } = host({
      gone: pool('gone', { deleted: { deletionDate: '2026-01-01', scheduledPurgeDate: '2026-04-01' } } as unknown as Partial<ManagedHsmPool>),
    });
    for (const requested of ['localhost:9002', 'default.vault.localhost', 'nosuch.managedhsm.vault.localhost', 'gone.managedhsm.vault.localhost']) {
      await expect(pools.locate(requested), requested).rejects.toMatchObject({ status: 404, code: 'ManagedHsmNotFound' });
    }
    await expect(pools.locate('evil.example/path')).rejects.toMatchObject({ status: 400 });
  });

  it('reads an endpoint again when its cached claim and the record do not agree: the endpoint changed hands', async () => {
    const deleted = { deleted: { deletionDate: '2026-01-01', scheduledPurgeDate: '2026-04-01' } } as unknown as Partial<ManagedHsmPool>;
    const pools: Record<string, ManagedHsmPool> = { first: pool('first', { hsmUri: 'https://localhost:9001/', ...deleted }) };
    const endpoints: Record<string, string> = { 'localhost:9001': 'first' };
    const { host: located } = host(pools, endpoints);
    // The deleted pool still holds its endpoint: not served, and the claim is cached.
    await expect(located.locate('localhost:9001')).rejects.toMatchObject({ status: 404 });
    // `first` is purged and `second` claims its endpoint, within the cache's time.
    delete pools.first;
    pools.second = pool('second', { hsmUri: 'https://localhost:9001/' });
    endpoints['localhost:9001'] = 'second';
    expect(await located.locate('localhost:9001')).toMatchObject({ pool: { name: 'second' }, baseUrl: 'https://localhost:9001' });
    // `second` is made again on another endpoint: its cached record, of the old endpoint, is not served on the new one.
    pools.second = pool('second', { hsmUri: 'https://localhost:9002/' });
    endpoints['localhost:9002'] = 'second';
    expect(await located.locate('localhost:9002')).toMatchObject({ pool: { hsmUri: 'https://localhost:9002/' } });
  });

  it("refuses a pool's key operations until it is active", () => {
    expect(() => assertPoolActive(pool('pool1'))).toThrow(
      expect.objectContaining({
        status: 403,
        code: 'Forbidden',
        innerCode: 'HsmNotActivated',
        message: `The managed HSM 'pool1' is not activated. ${NOT_ACTIVATED_MESSAGE}`,
      }),
    );
    expect(() => assertPoolActive(pool('pool1', { activation: { status: 'Active', message: '' } }))).not.toThrow();
  });
});
