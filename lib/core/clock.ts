/**
 * The clock every rule reads. Services take a `Clock` so tests (and, later, the scheduler's time
 * shift) can move time without patching globals.
 */
export type Clock = () => number;

/** Unix seconds, the unit Key Vault uses on the wire for every date. */
export const nowSeconds: Clock = () => Math.floor(Date.now() / 1000);
