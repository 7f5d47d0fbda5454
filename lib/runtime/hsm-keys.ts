import { noKmsInPools } from '../hsm/pool-keys.ts';
import { keyLifeCycle } from '../keys/keys.ts';
import { poolKeyOperations } from './hsm-pool-keys.ts';

/**
 * `hsmKeyOperation('CreateHsmKey', schemas, run)`: the composition root of a pool's key life cycle
 * (create, import, read, update, list, delete, recover, purge; docs/adr/0024-keys-in-pools.md), on
 * the pool's HSM: no crypto operations (lib/runtime/hsm-key-crypto.ts has them).
 */
export const hsmKeyOperation = poolKeyOperations((shared, handleKeys) =>
  keyLifeCycle(shared.objects, shared.sealer, noKmsInPools, (message, details) => shared.logger.warn(message, details), shared.clock, handleKeys),
);
