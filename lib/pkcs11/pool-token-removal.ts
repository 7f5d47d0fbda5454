import { type PoolTokenSecrets, poolTokenLabel } from '../hsm/pool-host-tokens.ts';
import { ckrName, hsmUnavailable } from './errors.ts';
import { pkcs11Library } from './token-session.ts';

/** What a wiped token is labelled: no pool's (a pool's is `coffer-<name>`), so the pool's name can have a new token. */
const WIPED_LABEL = 'coffer-wiped';

/**
 * A purged pool's token wiped through PKCS#11 itself: every session of this process on it closed,
 * then C_InitToken again with the pool's SO PIN, which destroys every object in it (its keys, its
 * domain key, its transfer key) and leaves an empty token labelled no pool's. The token's files are
 * not deleted: SoftHSM2 keeps each slot it found for as long as the library is loaded, and a slot
 * whose files went answers CKR_GENERAL_ERROR to every C_GetTokenInfo, which would break finding
 * every other pool's token. A pool with no token any more is nothing to do.
 */
export function wipePoolToken(libraryPath: string, pool: string, secrets: PoolTokenSecrets): void {
  const label = poolTokenLabel(pool);
  const module = pkcs11Library(libraryPath);
  const slot = module.C_GetSlotList(true).find((candidate) => {
    try {
      return module.C_GetTokenInfo(candidate).label.trim() === label;
    } catch {
      return false;
    }
  });
  if (!slot) return;
  try {
    module.C_CloseAllSessions(slot);
    module.C_InitToken(slot, secrets.soPin, WIPED_LABEL.padEnd(32, ' '));
  } catch (error) {
    throw hsmUnavailable(`the token of pool '${pool}' could not be wiped`, new Error(ckrName(error) ?? 'wiping failed'));
  }
}
