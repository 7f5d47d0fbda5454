import { noKmsInPools } from '../hsm/pool-keys.ts';
import { keyCryptoOperations } from '../keys/keys.ts';
import { poolKeyOperations } from './hsm-pool-keys.ts';

/**
 * `hsmCryptoOperation('SignWithHsmKey', schemas, run)`: the composition root of the crypto
 * operations on a pool's keys and of its random bytes (docs/adr/0024-keys-in-pools.md), run in the
 * pool's HSM: no key life cycle (lib/runtime/hsm-keys.ts has it).
 */
export const hsmCryptoOperation = poolKeyOperations((shared, handleKeys) =>
  keyCryptoOperations(shared.objects, shared.sealer, noKmsInPools, shared.clock, handleKeys),
);
