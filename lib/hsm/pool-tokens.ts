import { LRUCache } from 'lru-cache';
import { ServiceUnavailable } from '../core/errors.ts';
import type { EnvelopeCipher } from '../crypto/envelope.ts';
import type { PoolHsm } from './hsm-keys.ts';
import { newPoolTokenSecrets, type PoolTokenProvisioner, type PoolTokenSecrets } from './pool-host-tokens.ts';
import type { ManagedHsmPool, PoolTokenRecord } from './pools.ts';

/**
 * Each pool's own token (docs/adr/0022-pool-data-plane.md), where the deployment makes one per pool:
 * made at the pool's creation with PINs generated for it, the PINs kept in the pool's record sealed
 * with the envelope cipher (the KMS data key's context names the pool, the GCM additional data the
 * record's field), opened once per container and pool, and the token wiped at the pool's purge. The
 * PINs are never logged and never answered; no error message carries them.
 */
export interface PoolTokenSettings {
  provisioner: PoolTokenProvisioner & {
    /** Destroys every object of the pool's token; nothing when it has none. */
    remove(pool: string, secrets: PoolTokenSecrets): Promise<void>;
  };
  cipher: Pick<EnvelopeCipher, 'encrypt' | 'decrypt'>;
  /** The KMS key the PINs' data keys are made under. */
  keyId: string;
  /** The HSM adapter over a token, by its label and PINs. */
  open(label: string, secrets: PoolTokenSecrets): PoolHsm;
}

export class PoolTokens {
  private readonly opened = new LRUCache<string, PoolHsm>({ max: 1_000 });

  constructor(private readonly settings: PoolTokenSettings) {}

  /** The pool's new token: its PINs sealed first, so a sealing failure leaves no token behind. */
  async provision(pool: Pick<ManagedHsmPool, 'name'>): Promise<PoolTokenRecord> {
    const secrets = newPoolTokenSecrets();
    const sealedSecrets = Buffer.from(
      await this.settings.cipher.encrypt(this.scope(pool.name), aadOf(pool.name), Buffer.from(JSON.stringify(secrets), 'utf8')),
    ).toString('base64url');
    const label = await this.settings.provisioner.provision(pool.name, secrets);
    return { label, sealedSecrets };
  }

  /** Wipes the pool's token (at its purge, or when its creation is undone). */
  async remove(pool: Pick<ManagedHsmPool, 'name' | 'token'>): Promise<void> {
    if (!pool.token) return;
    this.opened.delete(cacheKey(pool.name, pool.token));
    await this.settings.provisioner.remove(pool.name, await this.secretsOf(pool.name, pool.token));
  }

  /**
   * The pool's HSM, one adapter per pool and token for this container: the PINs are opened at its
   * first call, and again after an opening that failed (KMS unreachable), never per call.
   */
  hsmOf(pool: Pick<ManagedHsmPool, 'name' | 'token'>): PoolHsm {
    const token = pool.token;
    if (!token) throw new ServiceUnavailable(`The managed HSM pool '${pool.name}' has no HSM partition.`);
    let hsm = this.opened.get(cacheKey(pool.name, token));
    if (!hsm) {
      hsm = openingPoolHsm(async () => this.settings.open(token.label, await this.secretsOf(pool.name, token)));
      this.opened.set(cacheKey(pool.name, token), hsm);
    }
    return hsm;
  }

  private scope(pool: string) {
    return { keyId: this.settings.keyId, context: { 'coffer:pool': pool.toLowerCase(), 'coffer:purpose': 'pool-token' } };
  }

  private async secretsOf(pool: string, token: PoolTokenRecord): Promise<PoolTokenSecrets> {
    const plaintext = await this.settings.cipher.decrypt(this.scope(pool), aadOf(pool), Buffer.from(token.sealedSecrets, 'base64url'));
    try {
      return JSON.parse(plaintext.toString('utf8')) as PoolTokenSecrets;
    } finally {
      plaintext.fill(0);
    }
  }
}

/** An adapter per pool and token: the same blob copied into another pool's record finds no adapter opened for its owner. */
function cacheKey(pool: string, token: PoolTokenRecord): string {
  return `${pool.toLowerCase()}\0${token.sealedSecrets}`;
}

function aadOf(pool: string): string {
  return `coffer/pool-token/v1/${pool.toLowerCase()}`;
}

/**
 * A PoolHsm whose adapter is made at its first call (the PINs are opened then), and made again if that
 * failed. Every method of the port answers a promise, so each is forwarded as it is, whatever the
 * port holds.
 */
export function openingPoolHsm(make: () => Promise<PoolHsm>): PoolHsm {
  let pending: Promise<PoolHsm> | undefined;
  const opened = (): Promise<PoolHsm> => {
    if (!pending) {
      const made = make();
      pending = made;
      made.catch(() => {
        if (pending === made) pending = undefined;
      });
    }
    return pending;
  };
  return new Proxy({} as PoolHsm, {
    get: (_target, method) => {
      if (typeof method !== 'string' || method === 'then') return undefined;
      return (...args: unknown[]) => opened().then((hsm) => (hsm[method as keyof PoolHsm] as (...forwarded: unknown[]) => Promise<unknown>)(...args));
    },
  });
}
