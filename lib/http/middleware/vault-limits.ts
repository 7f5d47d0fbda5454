import { Throttled } from '../../core/errors.ts';
import type { Route } from '../routes.ts';

/**
 * Coffer's documented per-vault limits (README "Limits, 429 and 503", docs/adr/0016), Azure Key
 * Vault's service limits (reference section 5) in Coffer's terms: requests per vault in any 10-second
 * window, by kind. Key operations are not weighted by key type and size here, unlike Azure's; every
 * kind below is at most what Azure allows, so code that stays within Azure's limits stays within them.
 */
const VAULT_LIMIT_WINDOW_SECONDS = 10;

export const VAULT_LIMITS = {
  /** Creating an HSM key (`RSA-HSM`, `EC-HSM`, `oct-HSM`): Azure's HSM key CREATE. */
  hsmKeyCreate: 10,
  /** Creating or rotating a software key: Azure's software key CREATE. */
  keyCreate: 20,
  /** Azure's shared 300: setting a secret, importing a certificate, importing a key. */
  secretCreate: 300,
  /** Every other data-plane request: Azure's 4,000 "all other transactions" (RSA-2048 and EC key operations are 4,000 too). */
  transactions: 4_000,
} as const;

export type VaultLimitKind = keyof typeof VAULT_LIMITS;

const SECRET_CREATES = new Set(['SetSecret', 'ImportCertificate', 'ImportKey']);
const KEY_CREATES = new Set(['CreateKey', 'RotateKey']);

/** Which limit a data-plane request counts against; `body` is read only for a key creation's `kty`. */
export function limitKind(route: Route, body: string | undefined): VaultLimitKind {
  if (SECRET_CREATES.has(route.operation)) return 'secretCreate';
  if (!KEY_CREATES.has(route.operation)) return 'transactions';
  if (route.operation === 'CreateKey' && body !== undefined && /"kty"\s*:\s*"[A-Za-z]+-HSM"/i.test(body)) return 'hsmKeyCreate';
  return 'keyCreate';
}

/**
 * A sliding 10-second window per vault and kind, in memory: what one process that sees every request
 * of a vault (the local gateway) can count without a request of its own. Over the limit it answers
 * Azure's 429 with Retry-After: the seconds until the oldest counted request leaves the window, which
 * the official SDKs wait before they try again.
 */
export class VaultRateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly limits: Record<VaultLimitKind, number> = VAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts the request, or throws Throttled (nothing counted) when the vault's window for its kind is full. */
  take(vault: string, kind: VaultLimitKind): void {
    const key = `${vault.toLowerCase()} ${kind}`;
    const now = this.now();
    const windowMs = VAULT_LIMIT_WINDOW_SECONDS * 1000;
    const times = (this.windows.get(key) ?? []).filter((time) => time > now - windowMs);
    if (times.length >= this.limits[kind]) {
      this.windows.set(key, times);
      const retryAfter = Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000));
      throw new Throttled(
        `The vault is over its limit of ${this.limits[kind]} ${kind === 'transactions' ? 'requests' : 'creations'} in ${VAULT_LIMIT_WINDOW_SECONDS} seconds; retry after the time in the Retry-After header.`,
        retryAfter,
      );
    }
    times.push(now);
    this.windows.set(key, times);
  }
}
