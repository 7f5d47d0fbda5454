import { KmsDataKeys } from '../aws/kms-data-keys.ts';
import { ServiceUnavailable } from '../core/errors.ts';
import { EnvelopeCipher } from '../crypto/envelope.ts';
import type { PoolHsm } from '../hsm/hsm-keys.ts';
import { PoolTokens } from '../hsm/pool-tokens.ts';
import type { ManagedHsmPool } from '../hsm/pools.ts';
import { Pkcs11PoolHsm } from '../pkcs11/pkcs11-hsm-keys.ts';
import { wipePoolToken } from '../pkcs11/pool-token-removal.ts';
import { Pkcs11PoolTokens } from '../pkcs11/pool-tokens.ts';
import { poolHsmConfig } from './config.ts';
import { familyServices } from './services.ts';

/**
 * Each pool's own token, wired once per container for the management root (made at creation, wiped
 * at purge) and the pools' root (the pool's HSM): present where the configuration names a PKCS#11
 * library and a token directory (SoftHSM2 on the local stack, docs/adr/0022-pool-data-plane.md).
 * The PINs are sealed under the deployment's backup key, the data key's context naming the pool.
 */
export const poolTokens = familyServices<PoolTokens | undefined>((shared) => {
  const { library: pkcs11Library, tokenDirectory } = poolHsmConfig();
  if (!pkcs11Library || !tokenDirectory) return undefined;
  const provisioner = new Pkcs11PoolTokens(pkcs11Library);
  return new PoolTokens({
    provisioner: {
      provision: (pool, secrets) => provisioner.provision(pool, secrets),
      remove: async (pool, secrets) => wipePoolToken(pkcs11Library, pool, secrets),
    },
    cipher: new EnvelopeCipher(new KmsDataKeys(shared.kms)),
    keyId: shared.config.backupKeyId,
    open: (tokenLabel, secrets) => new Pkcs11PoolHsm({ libraryPath: pkcs11Library, tokenLabel, pin: secrets.pin, soPin: secrets.soPin }),
  });
});

/**
 * The pool's HSM, the one way every pool handler reaches it: the pool's own token where the
 * deployment makes one per pool. Where the configuration names one partition for every pool
 * (CloudHSM: COFFER_PKCS11_LIBRARY and COFFER_PKCS11_PIN_PARAMETER), reading its credential is not
 * built yet, and a pool without a token answers 503.
 */
export function tokenPoolHsm(pool: ManagedHsmPool): PoolHsm {
  const tokens = poolTokens();
  if (!tokens) throw new ServiceUnavailable("This deployment's managed HSM pools have no HSM configured.");
  return tokens.hsmOf(pool);
}
