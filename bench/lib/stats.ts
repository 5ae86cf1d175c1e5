/** Summary statistics for latency samples (milliseconds). Pure: no I/O, no clock. */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The `p`-th percentile (0–100) of `samples` by the nearest-rank method: the smallest sample such that at
 * least p% of the samples are at or below it. Nearest rank never invents a value between two samples, so a
 * p99 is always a latency that really happened. `NaN` for no samples.
 *
 * @throws RangeError when `p` is not a number from 0 to 100.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100)
    throw new RangeError(`percentile must be from 0 to 100, got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Count, p50, p99, max and mean of `samples`; every figure is `NaN` when there are none. */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) {
    return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  }
  let max = -Infinity;
  let total = 0;
  for (const sample of samples) {
    if (sample > max) max = sample;
    total += sample;
  }
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max,
    mean: total / samples.length,
  };
}

/** `ours / baseline`, or `undefined` when either is missing, not finite, or the baseline is 0. */
export function ratio(ours: number | undefined, baseline: number | undefined): number | undefined {
  if (ours === undefined || baseline === undefined) return undefined;
  if (!Number.isFinite(ours) || !Number.isFinite(baseline) || baseline === 0) return undefined;
  return ours / baseline;
}
