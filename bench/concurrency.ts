/**
 * The bounded concurrency rows: a fixed number of clients calling in a closed loop (each waits for its
 * answer before its next call) for a few seconds per round, the rows taking turns round by round like
 * the latency rows do. Bounded in time and in calls, loopback only. Any failed call refuses the row.
 */
import { ms } from './format.ts';
import { log } from './measure.ts';
import { failureMessage, RowRefused, refuseUnlessAllSucceeded } from './refusal.ts';
import { ratio, type Summary, summarize } from './stats.ts';

export interface ConcurrencyPlan {
  clients: number;
  rounds: number;
  secondsPerRound: number;
  /** A ceiling on one row's calls in one round, whatever the machine's speed. */
  maxCallsPerRound: number;
  /** Calls each client makes before measuring (its connection, its token, the server's caches). */
  warmupCallsPerClient: number;
}

export interface ConcurrentSpec {
  id: string;
  label: string;
  /** The row whose throughput and p99 this one is compared with. */
  baseline?: string;
  /** Makes one client (its own SDK client, so its own connection): each of the plan's clients calls its own. */
  client: () => () => Promise<unknown>;
  /** Throws if a call's result is not the success it must be. */
  check?: (result: unknown) => void;
}

export interface ConcurrentResult {
  id: string;
  label: string;
  baseline?: string;
  clients: number;
  /** Wall time of the measured rounds together. */
  seconds: number;
  calls: number;
  /** Always 0 in a report: a row with a failed call is refused. */
  errors: number;
  /** Calls per second over the measured rounds. */
  throughput: number;
  summary: Summary;
  /** This row's throughput as a fraction of its baseline's. */
  throughputRatio?: number;
  /** This row's p99 over its baseline's. */
  p99Ratio?: number;
}

export async function measureConcurrent(specs: ConcurrentSpec[], plan: ConcurrencyPlan): Promise<ConcurrentResult[]> {
  log(`measuring ${plan.clients} concurrent clients: ${specs.length} rows, ${plan.rounds} rounds of ${plan.secondsPerRound} s each`);
  const rows = specs.map((spec) => ({ spec, callers: Array.from({ length: plan.clients }, () => spec.client()) }));
  for (const { spec, callers } of rows) {
    log(`  warm-up: ${plan.warmupCallsPerClient} calls by each client, ${spec.label}`);
    await Promise.all(
      callers.map(async (caller) => {
        for (let i = 0; i < plan.warmupCallsPerClient; i++) {
          try {
            spec.check?.(await caller());
          } catch (error) {
            throw new RowRefused(spec.label, `a warm-up call failed: ${failureMessage(error)}`);
          }
        }
      }),
    );
  }
  const state = rows.map(() => ({ attempts: 0, samples: [] as number[], failures: [] as string[], wallMs: 0 }));
  for (let round = 0; round < plan.rounds; round++) {
    for (const [index, { spec, callers }] of rows.entries()) {
      const own = state[index]!;
      const started = performance.now();
      const deadline = started + plan.secondsPerRound * 1000;
      let calls = 0;
      await Promise.all(
        callers.map(async (caller) => {
          while (performance.now() < deadline && calls < plan.maxCallsPerRound) {
            calls++;
            own.attempts++;
            const t0 = performance.now();
            try {
              const result = await caller();
              const elapsed = performance.now() - t0;
              spec.check?.(result);
              own.samples.push(elapsed);
            } catch (error) {
              own.failures.push(failureMessage(error));
            }
          }
        }),
      );
      own.wallMs += performance.now() - started;
    }
    log(`  round ${round + 1}/${plan.rounds} done`);
  }
  const results = rows.map(({ spec }, index): ConcurrentResult => {
    const own = state[index]!;
    refuseUnlessAllSucceeded(spec.label, own.attempts, own.failures);
    const seconds = own.wallMs / 1000;
    return {
      id: spec.id,
      label: spec.label,
      ...(spec.baseline ? { baseline: spec.baseline } : {}),
      clients: plan.clients,
      seconds,
      calls: own.samples.length,
      errors: 0,
      throughput: own.samples.length / seconds,
      summary: summarize(own.samples),
    };
  });
  for (const result of results) {
    const baseline = results.find((r) => r.id === result.baseline);
    if (baseline) {
      const throughputRatio = ratio(result.throughput, baseline.throughput);
      const p99Ratio = ratio(result.summary.p99, baseline.summary.p99);
      if (throughputRatio !== undefined) result.throughputRatio = throughputRatio;
      if (p99Ratio !== undefined) result.p99Ratio = p99Ratio;
    }
    log(
      `  ${result.label}: ${result.calls} calls, ${result.throughput.toFixed(0)}/s, median ${ms(result.summary.median)} ms, p99 ${ms(result.summary.p99)} ms`,
    );
  }
  return results;
}
