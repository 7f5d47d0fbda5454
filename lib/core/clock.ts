/**
 * The clock every rule reads. Services take a `Clock` so tests (and, later, the scheduler's time
 * shift) can move time without patching globals.
 */
export type Clock = () => number;

/** Unix seconds, the unit Key Vault uses on the wire for every date. */
export const nowSeconds: Clock = () => Math.floor(Date.now() / 1000);

/**
 * A vault's clock: real time plus the vault's offset. The offset is zero in every deployment; only
 * the local stack's time shift (`POST /_coffer/time`) moves a vault's clock forward, so that object
 * dates, expiry, rotation, events and purge happen as if that much time had passed there. Token
 * lifetimes never read it: they keep real time.
 */
export type VaultClock = (vault: string) => number;

/** Where a vault's offset comes from: nowhere in a deployment, the time shift's settings locally. */
export interface ClockOffsets {
  offsetSeconds(vault: string): number;
}

export function vaultClock(offsets?: ClockOffsets, now: Clock = nowSeconds): VaultClock {
  if (!offsets) return () => now();
  return (vault) => now() + offsets.offsetSeconds(vault.toLowerCase());
}
