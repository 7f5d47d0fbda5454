/**
 * Optimistic concurrency: a writer reads, computes, and writes on condition that nothing moved; when
 * another writer got there first it reads again. The attempts are bounded and spread out with
 * jittered exponential backoff, so a crowd of writers on one item thins out instead of colliding in
 * step.
 */
const MAX_WRITE_ATTEMPTS = 25;

/** What an attempt returns when it lost a race and wants to run again after a pause. */
export const TRY_AGAIN: unique symbol = Symbol('try again');

/**
 * Runs `attempt` until it returns a result, pausing after each TRY_AGAIN; after MAX_WRITE_ATTEMPTS
 * lost races it throws what `exhausted` builds. Errors an attempt throws end the loop at once.
 */
export async function retryConflicts<T>(attempt: (n: number) => Promise<T | typeof TRY_AGAIN>, exhausted: () => Error): Promise<T> {
  for (let n = 0; n < MAX_WRITE_ATTEMPTS; n++) {
    const result = await attempt(n);
    if (result !== TRY_AGAIN) return result;
    await backoff(n);
  }
  throw exhausted();
}

/** Full jitter up to a ceiling that doubles per attempt (5 ms, 10 ms, ...) and stops at 200 ms. */
export async function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 5 * 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
