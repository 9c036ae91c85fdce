// Concurrency sweeps, as NuRaft and dqlite report their benchmarks: the closed-loop mode at each
// connection count, then throughput and latency plotted against it. The knee of the curve is where
// the service saturates: more clients only add queueing latency.
import { formatGoDuration as d } from './duration.js';
import type { LoadOptions } from './options.js';
import { page } from './report-html.js';
import { runLoad, type RunResult } from './run.js';
import { esc, renderChart } from './svg.js';

export interface SweepPoint {
  connections: number;
  requests: number;
  throughput: number;
  success: number;
  /** ms */
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export interface SweepResult {
  levels: number[];
  points: SweepPoint[];
  runs: RunResult[];
}

/** Parses "connections=1,2,4,8" (the only swept parameter for now). */
export function parseSweep(spec: string): number[] {
  const m = /^connections=([\d,\s]+)$/.exec(spec.trim());
  const levels = m?.[1].split(',').map((s) => Number(s.trim())) ?? [];
  if (levels.length === 0 || levels.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`invalid --sweep "${spec}": expected connections=1,2,4,...`);
  }
  return levels;
}

export async function runSweep(
  options: Partial<LoadOptions>,
  levels: number[],
  onPoint?: (p: SweepPoint) => void,
): Promise<SweepResult> {
  const points: SweepPoint[] = [];
  const runs: RunResult[] = [];
  // Levels run one after another; each gets its own run id so writes never collide across levels.
  for (const connections of levels) {
    const r = await runLoad({ ...options, mode: 'max', connections, runId: undefined, urlPrefix: undefined });
    const s = r.summary;
    const p: SweepPoint = {
      connections,
      requests: s.requests,
      throughput: s.throughput,
      success: s.success,
      mean: s.latencies.mean,
      p50: s.latencies.p50,
      p99: s.latencies.p99,
      max: s.latencies.max,
    };
    points.push(p);
    runs.push(r);
    onPoint?.(p);
  }
  return { levels, points, runs };
}

export function formatSweepRow(p: SweepPoint): string {
  return [
    String(p.connections).padStart(11),
    String(p.requests).padStart(9),
    p.throughput.toFixed(1).padStart(12),
    `${(p.success * 100).toFixed(2)}%`.padStart(9),
    d(p.mean).padStart(13),
    d(p.p50).padStart(13),
    d(p.p99).padStart(13),
    d(p.max).padStart(13),
  ].join(' ');
}

export const SWEEP_HEADER = [
  'connections'.padStart(11),
  'requests'.padStart(9),
  'throughput/s'.padStart(12),
  'success'.padStart(9),
  'mean'.padStart(13),
  'p50'.padStart(13),
  'p99'.padStart(13),
  'max'.padStart(13),
].join(' ');

export function formatSweepText(r: SweepResult): string {
  return [SWEEP_HEADER, ...r.points.map(formatSweepRow)].join('\n');
}

export function renderSweepHtml(r: SweepResult, title = 'Concurrency sweep'): string {
  const at = (f: (p: SweepPoint) => number): Array<[number, number]> =>
    r.points.map((p) => [p.connections, f(p)]);
  const xLog = r.levels.length > 2 && Math.max(...r.levels) / Math.min(...r.levels) >= 8;
  const throughput = renderChart({
    title: 'Throughput against connections',
    xLabel: 'connections (closed loop)',
    yLabel: 'successful requests / s',
    series: [{ name: 'throughput', color: '#36c', kind: 'line', points: at((p) => p.throughput) }],
    xLog,
    xTicks: r.levels,
    yFromZero: true,
  });
  const latency = renderChart({
    title: 'Latency against connections',
    xLabel: 'connections (closed loop)',
    yLabel: 'latency (ms)',
    series: [
      { name: 'mean', color: '#36c', kind: 'line', points: at((p) => p.mean) },
      { name: 'p99', color: '#e80', kind: 'line', points: at((p) => p.p99) },
    ],
    xLog,
    xTicks: r.levels,
    yFromZero: true,
  });
  return page(title, `<pre>${esc(formatSweepText(r))}</pre>\n${throughput}\n${latency}`);
}
