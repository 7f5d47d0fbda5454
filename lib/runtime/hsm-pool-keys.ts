import type { PoolHsm } from '../hsm/hsm-keys.ts';
import { assertPoolActive } from '../hsm/pool-host.ts';
import { PoolHsmKeys, poolKeysAddress } from '../hsm/pool-keys.ts';
import type { ManagedHsmPool } from '../hsm/pools.ts';
import type { OperationHandler, OperationResult, OperationSchemas } from '../http/operation.ts';
import type { ManagedHsmDataOperationName } from '../http/routes.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import { type HsmOperationInput, hsmOperations } from './hsm.ts';
import { tokenPoolHsm } from './pool-tokens.ts';
import type { SharedServices } from './services.ts';

/**
 * What the two roots of a pool's keys share (docs/adr/0024-keys-in-pools.md): the keys domain over
 * the pool's HSM, at the pool's own partition. A key's functions either manage it
 * (lib/runtime/hsm-keys.ts) or use it (hsm-key-crypto.ts), and each root carries its part of the
 * keys domain only, and neither a backup, the security domain, settings or RBAC management.
 */
interface PoolKeysServices<TKeys> {
  poolKeys(pool: ManagedHsmPool, baseUrl: string): { keys: TKeys; at: VaultAddress };
}

/** What a pool's key handler receives beside a pool handler's input: the pool's keys and their address (`at`, the pool's partition). */
export type HsmKeyOperationInput<Op extends ManagedHsmDataOperationName, TBody, TKeys> = HsmOperationInput<Op, TBody, PoolKeysServices<TKeys>> & {
  keys: TKeys;
};

/**
 * A root of a pool's keys: `make` builds its part of the keys domain over one pool HSM adapter
 * (once per adapter: a purged pool's new namesake has another token, so another adapter), and its
 * handlers are refused until the pool is active.
 */
export function poolKeyOperations<TKeys extends object>(make: (shared: SharedServices, handleKeys: PoolHsmKeys) => TKeys) {
  const define = hsmOperations<PoolKeysServices<TKeys>>((shared) => {
    const byHsm = new WeakMap<PoolHsm, TKeys>();
    return {
      poolKeys: (pool, baseUrl) => {
        const hsm = tokenPoolHsm(pool);
        let keys = byHsm.get(hsm);
        if (!keys) {
          keys = make(shared, new PoolHsmKeys(hsm));
          byHsm.set(hsm, keys);
        }
        return { keys, at: poolKeysAddress(pool, baseUrl, shared.config.backupKeyId) };
      },
    };
  });
  return <Op extends ManagedHsmDataOperationName, TBody = undefined>(
    operation: Op,
    schemas: OperationSchemas<TBody>,
    run: (input: HsmKeyOperationInput<Op, TBody, TKeys>) => Promise<OperationResult>,
  ): OperationHandler =>
    define<Op, TBody>(operation, schemas, async (input) => {
      assertPoolActive(input.pool);
      const { keys, at } = input.services.poolKeys(input.pool, input.at.baseUrl);
      return run({ ...input, at, keys });
    });
}
