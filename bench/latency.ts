/**
 * Latency percentiles at the resolution autocannon measures (process.hrtime, fractions of a
 * millisecond), not at its histogram's: autocannon's HDR histogram keeps whole milliseconds, so
 * a p99 of 61.9 ms and one of 61.0 ms both read 61, and a ratio of two p99s moves in steps of
 * about 1/60. The bench records each 2xx answer's own time and takes percentiles from those.
 */

/** `values` sorted ascending, as a copy (`values` is left as it is). */
export function sortedAscending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * The nearest-rank percentile of ascending values: the smallest value with at least `p` % of
 * the values at or below it (what an HDR histogram reports, without its bucketing). NaN when
 * there are no values.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100)); // p × n first: (p / 100) × n can land a hair above a whole rank
  return sorted[rank - 1]!;
}
