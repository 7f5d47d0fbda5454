/**
 * Options every expiring in-process cache (lru-cache with a `ttl`) takes. lru-cache by default reads
 * the clock once per millisecond and sets a timer to forget the reading; a warm request looks in
 * several such caches (vault, access, data key) more than a millisecond after the last one, so each
 * look set a timer of its own. Reading the clock on every look costs less than one timer.
 */
export const EXPIRING_CACHE = { ttlResolution: 0 } as const;
