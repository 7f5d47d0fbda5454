import { randomBytes } from 'node:crypto';

/**
 * Where a pool's HSM partition comes from (docs/adr/0022-pool-data-plane.md): where the deployment
 * makes a token per pool (SoftHSM2 on the local stack), one is initialised at the pool's creation
 * with PINs generated for it, which the pool's record keeps sealed; where the configuration names the
 * partition (a CloudHSM cluster), nothing is made. The PKCS#11 adapter implements it.
 */
export interface PoolTokenSecrets {
  /** The crypto user's PIN: the pool's functions log in with it. */
  pin: string;
  /** The security officer's PIN: only the domain key's creation or import logs in with it. */
  soPin: string;
}

export interface PoolTokenProvisioner {
  /** Initialises the pool's own token with these PINs and answers its label; Conflict if the pool has one already. */
  provision(pool: string, secrets: PoolTokenSecrets): Promise<string>;
}

/** A pool token's label: the pool's name under Coffer's prefix (32 characters at most, PKCS#11's label length). */
export function poolTokenLabel(pool: string): string {
  return `coffer-${pool.toLowerCase()}`;
}

/** New PINs for a pool's token: 24 random bytes each, base64url (32 characters, within SoftHSM2's and CloudHSM's limits). */
export function newPoolTokenSecrets(): PoolTokenSecrets {
  return { pin: randomBytes(24).toString('base64url'), soPin: randomBytes(24).toString('base64url') };
}
