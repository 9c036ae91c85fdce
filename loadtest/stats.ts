// Order statistics over latencies. We keep every sample (see recorder.ts), so percentiles are exact
// (nearest rank on a sorted copy) rather than estimated from a sketch.

/** Nearest-rank percentile of an ascending array; p in [0, 100]. NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))];
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

export interface HistogramBin {
  /** Inclusive lower and exclusive upper edge, ms. */
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Log-spaced histogram: latency spans orders of magnitude (0.2 ms to seconds under a fault), and
 * linear bins would put almost everything in the first bar.
 */
export function logHistogram(sorted: ArrayLike<number>, binsPerDecade = 10): HistogramBin[] {
  const n = sorted.length;
  if (n === 0) return [];
  const floor = 0.001; // 1 µs: log of zero is not useful
  const lo = Math.max(floor, sorted[0]);
  const hi = Math.max(lo * 1.0001, sorted[n - 1]);
  const step = 1 / binsPerDecade;
  const first = Math.floor(Math.log10(lo) / step);
  const last = Math.floor(Math.log10(hi) / step);
  const bins: HistogramBin[] = [];
  for (let b = first; b <= last; b++)
    bins.push({ fromMs: 10 ** (b * step), toMs: 10 ** ((b + 1) * step), count: 0 });
  for (let i = 0; i < n; i++) {
    const b = Math.floor(Math.log10(Math.max(floor, sorted[i])) / step) - first;
    bins[Math.min(bins.length - 1, Math.max(0, b))].count++;
  }
  return bins;
}
