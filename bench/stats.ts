/**
 * Pure statistics for the benchmark: no clocks, no I/O, so they are unit-tested
 * (test/unit/bench-stats.test.ts) while the timings themselves never are.
 */

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
}

/**
 * The p-th percentile (0..100) of values sorted ascending, linearly interpolated between the two
 * closest ranks (the "type 7" definition of R, NumPy and spreadsheets): p0 is the minimum, p100 the
 * maximum, p50 the median.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower]!;
  const high = sorted[upper]!;
  return low + (high - low) * (rank - lower);
}

/** The p-th percentile of values in any order; the input is not modified. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(sortedCopy(values), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) throw new RangeError('summary of an empty sample');
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    n: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
    median: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
  };
}

/** How many times the baseline a measurement is; undefined when the baseline is not positive. */
export function ratio(value: number, baseline: number): number | undefined {
  return baseline > 0 && Number.isFinite(value) ? value / baseline : undefined;
}

function sortedCopy(values: readonly number[]): number[] {
  for (const value of values) {
    if (!Number.isFinite(value)) throw new RangeError(`sample value is not a finite number: ${value}`);
  }
  return [...values].sort((a, b) => a - b);
}
