import { describe, expect, it } from 'vitest';
import { median, percentile, percentileOfSorted, ratio, summarize } from '../../bench/stats.ts';

describe('bench statistics', () => {
  it('takes the middle value of an odd sample and the mean of the two middle values of an even one', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('interpolates percentiles linearly between ranks', () => {
    const values = Array.from({ length: 101 }, (_, i) => i); // 0..100: the p-th percentile is p
    expect(percentile(values, 95)).toBe(95);
    expect(percentile([10, 20], 95)).toBeCloseTo(19.5, 10);
    expect(percentileOfSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(percentileOfSorted([1, 2, 3, 4], 100)).toBe(4);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    summarize(values);
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('summarizes a sample', () => {
    const summary = summarize([4, 2, 8, 6]);
    expect(summary).toMatchObject({ n: 4, min: 2, max: 8, mean: 5, median: 5 });
    expect(summary.p95).toBeCloseTo(7.7, 10);
    expect(summary.p99).toBeCloseTo(7.94, 10);
  });

  it('refuses empty samples, non-finite values and percentiles outside 0..100', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('gives a ratio only against a positive baseline', () => {
    expect(ratio(6, 2)).toBe(3);
    expect(ratio(1, 0)).toBeUndefined();
  });
});
