// The --html report: one self-contained page with inline SVG plots — every request's latency over
// time (like `vegeta plot`), percentiles per second, a latency histogram and throughput per second —
// with fault markers drawn as labelled vertical lines on the time-based plots.
import { formatTextReport } from './report-text.js';
import type { RunResult } from './run.js';
import { logHistogram, sortedCopy } from './stats.js';
import { esc, renderChart } from './svg.js';

/** Above this many points the scatter is thinned (see thinPoints). */
export const MAX_SCATTER_POINTS = 50_000;

/** `extraText` (e.g. a fault run's lines) is printed below the text report. */
export function renderHtmlReport(r: RunResult, title = 'Load test report', extraText?: string): string {
  const rec = r.recorder;
  const seconds = r.timeline.length;
  const markers = r.markers.map((m) => ({ x: m.atMs / 1000, label: m.label }));
  const okPts: Array<[number, number]> = [];
  const badPts: Array<[number, number]> = [];
  for (let i = 0; i < rec.count; i++) (rec.ok(i) ? okPts : badPts).push([rec.due[i] / 1000, rec.latency(i)]);
  const maxLat = Math.max(1e-3, r.summary.latencies.max || 0);
  const xRange: [number, number] = [0, seconds];
  const thinned = (pts: Array<[number, number]>): Array<[number, number]> =>
    thinPoints(pts, xRange, [0, maxLat], MAX_SCATTER_POINTS);
  const ok = thinned(okPts);
  const bad = thinned(badPts);
  const shown = ok.length + bad.length;

  const scatter = renderChart({
    title: `Latency of every request by due time${shown < rec.count ? ` (${shown} of ${rec.count} points shown: one per pixel cell)` : ''}`,
    xLabel: 'time since start (s)',
    yLabel: 'latency (ms)',
    series: [
      { name: `OK (${okPts.length})`, color: '#2a8', kind: 'points', points: ok },
      { name: `Error (${badPts.length})`, color: '#d33', kind: 'points', points: bad },
    ],
    markers,
    xRange,
    yFromZero: true,
  });
  const pct = (key: 'p50' | 'p90' | 'p99' | 'max'): Array<[number, number]> =>
    r.timeline.map((b) => [b.second + 0.5, b[key]]);
  const percentiles = renderChart({
    title: 'Latency percentiles per second (log scale)',
    xLabel: 'time since start (s)',
    yLabel: 'latency (ms)',
    series: [
      { name: 'p50', color: '#2a8', kind: 'line', points: pct('p50') },
      { name: 'p90', color: '#36c', kind: 'line', points: pct('p90') },
      { name: 'p99', color: '#e80', kind: 'line', points: pct('p99') },
      { name: 'max', color: '#d33', kind: 'line', points: pct('max') },
    ],
    markers,
    xRange,
    yLog: true,
  });
  const latencies = new Float64Array(rec.count);
  for (let i = 0; i < rec.count; i++) latencies[i] = rec.latency(i);
  const histogram = renderChart({
    title: 'Latency histogram (log-spaced bins)',
    xLabel: 'latency (ms)',
    yLabel: 'requests',
    series: [
      {
        name: 'requests',
        color: '#36c',
        kind: 'bars',
        bars: logHistogram(sortedCopy(latencies)).map((b) => ({ from: b.fromMs, to: b.toMs, y: b.count })),
      },
    ],
    xLog: true,
    yFromZero: true,
  });
  const throughput = renderChart({
    title: 'Throughput per second (successful responses completed) and requests sent',
    xLabel: 'time since start (s)',
    yLabel: 'requests / s',
    series: [
      { name: 'sent', color: '#aaa', kind: 'line', points: r.timeline.map((b) => [b.second + 0.5, b.count]) },
      {
        name: 'ok completed',
        color: '#2a8',
        kind: 'line',
        points: r.timeline.map((b) => [b.second + 0.5, b.throughput]),
      },
    ],
    markers,
    xRange,
    yFromZero: true,
  });
  return page(
    title,
    `<pre>${esc(formatTextReport(r) + (extraText ? `\n\n${extraText}` : ''))}</pre>\n${markerList(r)}\n${[scatter, percentiles, histogram, throughput].join('\n')}`,
  );
}

function markerList(r: RunResult): string {
  if (r.markers.length === 0) return '';
  const items = r.markers.map((m) => `<li>${(m.atMs / 1000).toFixed(3)} s — ${esc(m.label)}</li>`).join('');
  return `<h2>Markers</h2><ul>${items}</ul>`;
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:1000px}pre{background:#f6f6f6;padding:1em;overflow-x:auto}svg{display:block;margin:1.5em 0}</style>
</head><body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

/**
 * Keeps at most one point per cell of a grid about the plot's pixel size, so the picture looks the
 * same (a pixel is a pixel) while the page stays small; the grid coarsens until under maxPoints.
 * Outliers survive because every occupied cell keeps a point, unlike random sampling.
 */
export function thinPoints(
  pts: Array<[number, number]>,
  [x0, x1]: [number, number],
  [y0, y1]: [number, number],
  maxPoints: number,
): Array<[number, number]> {
  if (pts.length <= maxPoints) return pts;
  for (let cols = 900, rows = 260; ; cols = Math.ceil(cols / 1.5), rows = Math.ceil(rows / 1.5)) {
    const seen = new Set<number>();
    const out: Array<[number, number]> = [];
    for (const p of pts) {
      const cx = Math.min(cols - 1, Math.max(0, Math.floor(((p[0] - x0) / (x1 - x0 || 1)) * cols)));
      const cy = Math.min(rows - 1, Math.max(0, Math.floor(((p[1] - y0) / (y1 - y0 || 1)) * rows)));
      const key = cy * cols + cx;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
    if (out.length <= maxPoints || cols <= 2) return out;
  }
}
