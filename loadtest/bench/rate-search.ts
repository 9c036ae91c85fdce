// Finds the highest fixed write rate a target holds for a whole run with success >= 99.9 % and
// p99 <= 50 ms (the TARGETS.md definition), starting from a closed-loop estimate of the ceiling.
import { runLoad, type RunResult } from '../index.js';

export interface RateStep {
  rate: number;
  passed: boolean;
  success: number;
  p99: number;
}

export interface RateSearchResult {
  /** Highest rate that passed (0 if none did). */
  rate: number;
  /** The passing run at that rate, for its latencies. */
  run: RunResult | undefined;
  steps: RateStep[];
}

export const SUCCESS_FLOOR = 0.999;
export const P99_CEILING_MS = 50;

export function passes(run: RunResult): boolean {
  return run.summary.success >= SUCCESS_FLOOR && run.summary.latencies.p99 <= P99_CEILING_MS;
}

export async function searchMaxRate(options: {
  nodes: string[];
  estimate: number;
  durationMs: number;
  maxSteps: number;
  log: (line: string) => void;
}): Promise<RateSearchResult> {
  const steps: RateStep[] = [];
  let best: { rate: number; run: RunResult } | undefined;
  let lowestFail = Number.POSITIVE_INFINITY;
  // Start well below the closed-loop throughput (whose latencies are far above the 50 ms bound),
  // climb by 25 % while runs hold, then bisect between the best pass and the lowest failure.
  let rate = Math.max(100, Math.round((options.estimate * 0.5) / 100) * 100);
  for (let i = 0; i < options.maxSteps; i++) {
    const run = await runLoad({
      nodes: options.nodes,
      rate,
      durationMs: options.durationMs,
      warmupMs: 1_000,
    });
    const ok = passes(run);
    steps.push({ rate, passed: ok, success: run.summary.success, p99: run.summary.latencies.p99 });
    options.log(
      `  ${rate}/s: success ${(run.summary.success * 100).toFixed(2)} %, p99 ${run.summary.latencies.p99.toFixed(1)} ms -> ${ok ? 'holds' : 'does not hold'}`,
    );
    if (ok) {
      if (!best || rate > best.rate) best = { rate, run };
    } else {
      lowestFail = Math.min(lowestFail, rate);
    }
    const next = ok
      ? Number.isFinite(lowestFail)
        ? (rate + lowestFail) / 2
        : rate * 1.25
      : best
        ? (best.rate + rate) / 2
        : rate * 0.6;
    const rounded = Math.round(next / 50) * 50;
    // Stop once the bracket is within 5 % (or the next step would repeat a measured rate).
    if (best && Number.isFinite(lowestFail) && lowestFail - best.rate <= best.rate * 0.05) break;
    if (rounded === rate || rounded < 50 || (best && rounded <= best.rate) || rounded >= lowestFail) break;
    rate = rounded;
  }
  return { rate: best?.rate ?? 0, run: best?.run, steps };
}
