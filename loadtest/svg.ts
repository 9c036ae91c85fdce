// A minimal SVG chart renderer (axes, ticks, lines, points, bars, vertical markers, legend), so the
// HTML report is one self-contained file with no JavaScript libraries to load or vendor.

export interface LineSeries {
  name: string;
  color: string;
  kind: 'line' | 'points';
  points: Array<[number, number]>;
}

export interface BarSeries {
  name: string;
  color: string;
  kind: 'bars';
  bars: Array<{ from: number; to: number; y: number }>;
}

export type Series = LineSeries | BarSeries;

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Vertical lines with a label, in x units (fault markers). */
  markers?: Array<{ x: number; label: string }>;
  xLog?: boolean;
  yLog?: boolean;
  /** Force the axis to include these (e.g. y from 0, x over the whole run). */
  xRange?: [number, number];
  yFromZero?: boolean;
  /** Explicit x ticks (e.g. the sweep levels); the axis then spans exactly the data. */
  xTicks?: number[];
  width?: number;
  height?: number;
}

const M = { left: 70, right: 20, top: 34, bottom: 46 };

export function renderChart(spec: ChartSpec): string {
  const W = spec.width ?? 960;
  const H = spec.height ?? 320;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    if (s.kind === 'bars') {
      for (const b of s.bars) {
        xs.push(b.from, b.to);
        ys.push(b.y);
      }
    } else {
      for (const [x, y] of s.points) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  const finite = (v: number[], log?: boolean): number[] =>
    v.filter((n) => Number.isFinite(n) && (!log || n > 0));
  const fx = finite(xs, spec.xLog);
  const fy = finite(ys, spec.yLog);
  let [x0, x1] = spec.xRange ?? extent(fx);
  let [y0, y1] = extent(fy);
  if (spec.yFromZero && !spec.yLog) y0 = 0;
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = spec.xLog ? [1, 10] : [0, 1];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = spec.yLog ? [1, 10] : [0, 1];
  const xAxis = spec.xTicks ? exactAxis(x0, x1, !!spec.xLog, spec.xTicks) : axis(x0, x1, !!spec.xLog);
  const yAxis = axis(y0, y1, !!spec.yLog);
  const px = (x: number): number => M.left + xAxis.scale(x) * pw;
  const py = (y: number): number => M.top + ph - yAxis.scale(y) * ph;
  const r = (n: number): string => (Math.round(n * 10) / 10).toString();

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(spec.title)}</text>`,
  );
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`);
  for (const t of xAxis.ticks) {
    const x = r(px(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${M.top + ph + 14}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const y = r(py(t));
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    );
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(
    `<text x="14" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${M.top + ph / 2})">${esc(spec.yLabel)}</text>`,
  );
  // Data is clipped to the plot area: points outside a forced range must not spill over the axes.
  const clip = `clip${Math.random().toString(36).slice(2, 8)}`;
  out.push(
    `<clipPath id="${clip}"><rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`,
  );
  out.push(`<g clip-path="url(#${clip})">`);
  for (const s of spec.series) {
    if (s.kind === 'bars') {
      for (const b of s.bars) {
        if (!(b.y > 0) && spec.yLog) continue;
        const top = py(b.y);
        const base = py(yAxis.min);
        out.push(
          `<rect x="${r(px(b.from))}" y="${r(top)}" width="${r(Math.max(1, px(b.to) - px(b.from) - 1))}" height="${r(Math.max(0, base - top))}" fill="${s.color}"><title>${fmt(b.from)}–${fmt(b.to)}: ${b.y}</title></rect>`,
        );
      }
    } else {
      const pts = s.points.filter(([x, y]) => ok(x, spec.xLog) && ok(y, spec.yLog));
      if (s.kind === 'line') {
        const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r(px(x))} ${r(py(y))}`).join('');
        if (d) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
        // Few points (a sweep): mark each measured level, so the line is not mistaken for data.
        if (pts.length <= 50) {
          const dots = pts.map(([x, y]) => `M${r(px(x))} ${r(py(y))}h0`).join('');
          out.push(`<path d="${dots}" stroke="${s.color}" stroke-width="6" stroke-linecap="round"/>`);
        }
      } else {
        // Each point is a zero-length segment with round caps: far smaller than one <circle> per point.
        const d = pts.map(([x, y]) => `M${r(px(x))} ${r(py(y))}h0`).join('');
        if (d)
          out.push(
            `<path d="${d}" stroke="${s.color}" stroke-width="2.5" stroke-linecap="round" opacity="0.7"/>`,
          );
      }
    }
  }
  out.push('</g>');
  for (const [i, m] of (spec.markers ?? []).entries()) {
    const x = r(px(m.x));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#c00" stroke-dasharray="4 3"/>`,
    );
    out.push(`<text x="${x}" y="${M.top + 12 + (i % 3) * 12}" dx="3" fill="#c00">${esc(m.label)}</text>`);
  }
  let lx = M.left + 8;
  for (const s of spec.series) {
    out.push(`<rect x="${lx}" y="${M.top - 12}" width="10" height="8" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="${M.top - 5}">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.5;
  }
  out.push('</svg>');
  return out.join('\n');
}

/** [min, max] without spreading into Math.min, which overflows the stack on ~100k values. */
function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function ok(v: number, log?: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

interface Axis {
  min: number;
  ticks: number[];
  scale: (v: number) => number;
}

/** Axis from lo to hi with "nice" ticks (1-2-5 steps, or powers of ten on a log axis). */
export function axis(lo: number, hi: number, log: boolean): Axis {
  if (log) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++) {
      ticks.push(10 ** e);
      if (b - a <= 3 && e < b) ticks.push(2 * 10 ** e, 5 * 10 ** e);
    }
    return { min: 10 ** a, ticks, scale: (v) => (Math.log10(v) - a) / (b - a) };
  }
  if (hi <= lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.1);
  const raw = (hi - lo) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = start; t <= end + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min: start, ticks, scale: (v) => (v - start) / (end - start) };
}

function exactAxis(lo: number, hi: number, log: boolean, ticks: number[]): Axis {
  const f = log ? Math.log10 : (v: number) => v;
  const [a0, b0] = hi > lo ? [f(lo), f(hi)] : [f(lo) - 1, f(lo) + 1];
  // A little room on both sides, so the first and last points are not cut in half by the frame.
  const a = a0 - (b0 - a0) * 0.04;
  const b = b0 + (b0 - a0) * 0.04;
  return { min: lo, ticks: ticks.filter((t) => t >= lo && t <= hi), scale: (v) => (f(v) - a) / (b - a) };
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e6) return `${n / 1e6}M`;
  if (a >= 1e4) return `${n / 1e3}k`;
  if (a < 0.01) return n.toExponential(0);
  return String(Number(n.toPrecision(3)));
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
