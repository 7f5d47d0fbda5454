/**
 * The scheduler in the local stack: what the EventBridge rate rules do in AWS, a timer in the
 * gateway's process does here, every few seconds, calling the production handlers. Runs never
 * overlap: a tick while one runs waits for it. `runScheduledWorkNow` runs the scheduler at once and
 * resolves when that run is over: the time shift (`POST /_coffer/time`) awaits it, so what its
 * advance made due has happened when it answers.
 */
import { handler as runScheduledWork } from '../functions/events/run-scheduled-work.ts';
import { handler as purgeDeletedPools } from '../functions/hsm/purge-deleted-managed-hsms.ts';

/**
 * The vaults' scheduled work and the pools' sweep (the main stack's rule and the pools' stack's in
 * AWS: docs/adr/0020), one after the other; a failure of one does not keep the other from running.
 */
async function runBoth(): Promise<void> {
  let failure: unknown;
  await runScheduledWork().catch((error: unknown) => {
    failure = error ?? new Error('scheduled work failed');
  });
  await purgeDeletedPools().catch((error: unknown) => {
    failure ??= error ?? new Error("the pools' sweep failed");
  });
  if (failure !== undefined) throw failure;
}

/** Often enough that a test waits seconds, not a minute; each run is a few Queries when nothing is due. */
const TICK_MS = 3000;

let running: Promise<void> = Promise.resolve();
let timer: NodeJS.Timeout | undefined;

function chain(report: (error: unknown) => void): Promise<void> {
  running = running
    .then(() => runBoth())
    .then(
      () => undefined,
      (error: unknown) => report(error),
    );
  return running;
}

/** Starts the ticks (once); `stop` ends them and waits for a run under way. */
export function startSchedulerTimer(report: (error: unknown) => void = (error) => console.error('scheduled work failed:', error)) {
  if (!timer) {
    timer = setInterval(() => void chain(report), TICK_MS);
    timer.unref();
  }
  return {
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/** Runs the scheduler now (after a run under way) and resolves when it is done; rejects if it failed. */
export async function runScheduledWorkNow(): Promise<void> {
  let failure: unknown;
  await chain((error) => {
    failure = error ?? new Error('scheduled work failed');
  });
  if (failure !== undefined) throw failure;
}
