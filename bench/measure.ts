/**
 * The runner: cases measured interleaved in rounds, with a time cap on slow machines, each call's
 * DynamoDB and KMS requests counted alongside its latency.
 */
import { type Counts, difference, type DynamoRequestCounter, type KmsLogCounter, perCall } from './aws-requests.ts';
import { ms } from './format.ts';
import { failureMessage, RowRefused } from './refusal.ts';
import { ratio, type Summary, summarize } from './stats.ts';

/** A group of cases runs this many interleaved rounds (see groupMeasurer). */
export const ROUNDS = 10;

/**
 * Time caps on top of the iteration bounds, so a slow machine still finishes in about two minutes:
 * per case for its warm-up, and for all the measured rounds of a group together.
 */
const MAX_WARMUP_SECONDS_PER_CASE = 5;
const MAX_MEASURE_SECONDS_PER_GROUP = 60;

/** Progress goes to stderr, the report to stdout. */
export const log = (line: string) => process.stderr.write(`${line}\n`);

export interface Plan {
  warmup: number;
  /** Measured calls in all, spread evenly over the rounds. */
  iterations: number;
}

export interface CaseResult {
  id: string;
  label: string;
  /** Which baseline the ratio is against (undefined for the baselines themselves). */
  baseline?: string;
  summary: Summary;
  /** Medians of the first and the second half of the rounds: how much the case drifted. */
  halves: { firstMedian: number; secondMedian: number };
  ratio?: number;
  /** DynamoDB requests per measured call, by operation; undefined where they are made in another process. */
  dynamodb?: Counts;
  /** KMS requests per measured call, by operation (from the local KMS log). */
  kms?: Counts;
  note?: string;
}

export interface CaseSpec {
  id: string;
  label: string;
  /** The case whose median this one is divided by. */
  baseline?: string;
  plan: Plan;
  /**
   * What the call is handed, made before the timed part: for a handler, the event API Gateway builds
   * (and times as its own, not the function's). Its value is `action`'s argument.
   */
  prepare?: () => unknown;
  action: (prepared?: unknown) => unknown;
  /**
   * Looks at each call's result, outside the timed part, and throws if it is not the success it must
   * be (the right value, a signature): a row is reported only if every call passed (bench/refusal.ts).
   */
  check?: (result: unknown) => void;
  /** The calls' DynamoDB requests happen in another process (the gateway) and cannot be counted here. */
  dynamodbInOtherProcess?: boolean;
}

/**
 * Measures a group of cases interleaved: each case warms up, then the group runs ROUNDS rounds in
 * which every case makes its share of calls in turn. A machine that speeds up or slows down during
 * the group (JIT, another process, thermal) affects a case and its baseline alike, and the medians
 * of the first and second half of the rounds show how much it moved.
 *
 * `everyCase`, when given, replaces every case's own plan (the smoke run's few calls: bench/cases.ts).
 */
export function groupMeasurer(dynamo: DynamoRequestCounter, kms: KmsLogCounter, everyCase?: Plan) {
  return async function measureGroup(name: string, cases: CaseSpec[]): Promise<CaseResult[]> {
    const specs = everyCase ? cases.map((spec) => ({ ...spec, plan: everyCase })) : cases;
    log(`measuring ${name}: ${specs.length} cases, warm-up first, then ${ROUNDS} interleaved rounds`);
    for (const spec of specs) {
      log(`  warm-up: ${spec.plan.warmup} x ${spec.label}`);
      const until = performance.now() + MAX_WARMUP_SECONDS_PER_CASE * 1000;
      for (let i = 0; i < spec.plan.warmup && performance.now() < until; i++) await call(spec, 'warm-up');
    }
    const groupStart = performance.now();
    const deadline = groupStart + MAX_MEASURE_SECONDS_PER_GROUP * 1000;
    const state = specs.map(() => ({ samples: [] as number[], firstHalf: [] as number[], dynamo: {} as Counts, kms: {} as Counts }));
    for (let round = 0; round < ROUNDS; round++) {
      if (performance.now() > deadline) {
        log(`  time cap reached after ${round} of ${ROUNDS} rounds`);
        break;
      }
      for (const [index, spec] of specs.entries()) {
        const own = state[index]!;
        const calls = Math.ceil(spec.plan.iterations / ROUNDS);
        const dynamoBefore = dynamo.snapshot();
        const kmsBefore = kms.snapshot();
        for (let i = 0; i < calls; i++) {
          const elapsed = await call(spec, `round ${round + 1}`);
          own.samples.push(elapsed);
          if (round < ROUNDS / 2) own.firstHalf.push(elapsed);
        }
        own.dynamo = add(own.dynamo, difference(dynamo.snapshot(), dynamoBefore));
        own.kms = add(own.kms, difference(kms.snapshot(), kmsBefore));
      }
      log(`  round ${round + 1}/${ROUNDS} done (${((performance.now() - groupStart) / 1000).toFixed(1)} s)`);
    }
    const results = specs.map((spec, index): CaseResult => {
      const own = state[index]!;
      const calls = own.samples.length;
      const secondHalf = own.samples.slice(own.firstHalf.length);
      return {
        id: spec.id,
        label: spec.label,
        ...(spec.baseline ? { baseline: spec.baseline } : {}),
        summary: summarize(own.samples),
        halves: {
          firstMedian: summarize(own.firstHalf).median,
          secondMedian: secondHalf.length ? summarize(secondHalf).median : Number.NaN,
        },
        ...(spec.dynamodbInOtherProcess
          ? { note: 'its DynamoDB requests are made in the gateway process: see the in-process row' }
          : { dynamodb: perCall(own.dynamo, calls) }),
        kms: perCall(own.kms, calls),
      };
    });
    for (const result of results) {
      const baseline = results.find((r) => r.id === result.baseline);
      if (baseline) result.ratio = ratio(result.summary.median, baseline.summary.median);
      log(`  ${result.label}: ${result.summary.n} calls, median ${ms(result.summary.median)} ms, p95 ${ms(result.summary.p95)} ms`);
    }
    return results;
  };
}

/** One call, timed; a call that throws or fails its check refuses the row (and so stops the run). */
async function call(spec: CaseSpec, phase: string): Promise<number> {
  let result: unknown;
  const prepared = spec.prepare?.();
  const t0 = performance.now();
  try {
    result = spec.action(prepared);
    if (result instanceof Promise) result = await result;
  } catch (error) {
    throw new RowRefused(spec.label, `a call failed (${phase}): ${failureMessage(error)}`);
  }
  const elapsed = performance.now() - t0;
  try {
    spec.check?.(result);
  } catch (error) {
    throw new RowRefused(spec.label, `a call's answer failed its check (${phase}): ${failureMessage(error)}`);
  }
  return elapsed;
}

function add(a: Counts, b: Counts): Counts {
  const sum: Counts = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}
