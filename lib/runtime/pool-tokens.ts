import { SsmClient } from '../aws/api/ssm.ts';
import { KmsDataKeys } from '../aws/kms-data-keys.ts';
import { ServiceUnavailable, VaultError } from '../core/errors.ts';
import { EnvelopeCipher } from '../crypto/envelope.ts';
import type { PoolHsm } from '../hsm/hsm-keys.ts';
import { openingPoolHsm, PoolTokens } from '../hsm/pool-tokens.ts';
import type { ManagedHsmPool } from '../hsm/pools.ts';
import { Pkcs11PoolHsm } from '../pkcs11/pkcs11-hsm-keys.ts';
import { wipePoolToken } from '../pkcs11/pool-token-removal.ts';
import { Pkcs11PoolTokens } from '../pkcs11/pool-tokens.ts';
import type { Pkcs11TokenConfig } from '../pkcs11/token-session.ts';
import { type PoolHsmConfig, poolHsmConfig } from './config.ts';
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
 * The one partition the configuration names for every pool (CloudHSM in AWS, docs/adr/0023-pool-stack.md):
 * the library, the token's label and the SSM SecureString parameter holding its crypto user's
 * `name:password` (COFFER_PKCS11_LIBRARY, COFFER_PKCS11_TOKEN_LABEL, COFFER_PKCS11_PIN_PARAMETER).
 * The credential is read at the partition's first use in a container, and again after a failed
 * read or opening, never per call; it is never logged, and no error carries it.
 */
export function configuredPartitionHsm(
  settings: Required<Pick<PoolHsmConfig, 'library' | 'tokenLabel' | 'pinParameter'>>,
  readSecret: (parameter: string) => Promise<string>,
  open: (config: Pkcs11TokenConfig) => PoolHsm = (config) => new Pkcs11PoolHsm(config),
): PoolHsm {
  return openingPoolHsm(async () => {
    let pin: string;
    try {
      pin = await readSecret(settings.pinParameter);
    } catch (error) {
      if (error instanceof VaultError) throw error;
      throw new ServiceUnavailable("The managed HSM pools' HSM credential could not be read; retry the request.", { cause: error });
    }
    return open({ libraryPath: settings.library, tokenLabel: settings.tokenLabel, pin });
  });
}

const configuredPartition = familyServices<PoolHsm | undefined>((shared) => {
  const { library, tokenDirectory, tokenLabel, pinParameter } = poolHsmConfig();
  if (!library || tokenDirectory || !tokenLabel || !pinParameter) return undefined;
  const ssm = new SsmClient({ region: shared.config.region });
  return configuredPartitionHsm({ library, tokenLabel, pinParameter }, (parameter) => ssm.secureString(parameter));
});

/**
 * The pool's HSM, the one way every pool handler reaches it: the pool's own token where the
 * deployment makes one per pool (a token directory: SoftHSM2 on the local stack), the partition the
 * configuration names for every pool where it names one (CloudHSM, `configuredPartitionHsm`), and
 * otherwise none: 503.
 */
export function tokenPoolHsm(pool: ManagedHsmPool): PoolHsm {
  const tokens = poolTokens();
  if (tokens) return tokens.hsmOf(pool);
  const partition = configuredPartition();
  if (partition) return partition;
  throw new ServiceUnavailable("This deployment's managed HSM pools have no HSM configured.");
}
