// Turns the recorded requests into the figures every report shows: vegeta's metrics, a few our
// cluster needs (hops, longest gap without a successful write), and a per-second timeline.
import type { Recorder, RequestKind } from './recorder.js';
import { mean, percentile, sortedCopy } from './stats.js';

export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface Summary {
  requests: number;
  /** Requests per second over the attack (vegeta: total / attack). */
  rate: number;
  /** Successes per second over attack + wait (vegeta's definition). */
  throughput: number;
  /** ms. attack: first to last request's due time; wait: last due time to the last response. */
  duration: { total: number; attack: number; wait: number };
  /** ms, from each request's due time (open loop) or send time (closed loop) to its response. */
  latencies: LatencySummary;
  bytesIn: { total: number; mean: number };
  bytesOut: { total: number; mean: number };
  success: number;
  statusCodes: Record<string, number>;
  errors: string[];
  byKind: Partial<Record<RequestKind, { requests: number; ok: number; latencies: LatencySummary }>>;
  /** Writes that were redirected by a 409, and the hops they took. */
  hops: { writes: number; total: number };
  /** ms the loader itself was late in sending (start - due): large values mean the loader is the bottleneck. */
  sendLag: { p50: number; p99: number; max: number };
  /** ms, the longest stretch without a successful write completing (between run start and last response). */
  longestWriteGap: number;
}

export interface TimelineBucket {
  /** Start of the second, s since t0. */
  second: number;
  /** Requests due in this second, and how many of those succeeded. */
  count: number;
  ok: number;
  /** Latency percentiles (ms) of the requests due in this second. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Successful responses that completed during this second, per second. */
  throughput: number;
}

export function latencySummary(sorted: Float64Array): LatencySummary {
  return {
    min: sorted.length ? sorted[0] : NaN,
    mean: mean(sorted),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

export function summarize(rec: Recorder): Summary {
  const n = rec.count;
  const lat = new Float64Array(n);
  const lag = new Float64Array(n);
  let firstDue = Infinity;
  let lastDue = -Infinity;
  let lastEnd = -Infinity;
  let ok = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let hopWrites = 0;
  let hops = 0;
  const statusCodes: Record<string, number> = {};
  const kindLat: Record<RequestKind, number[]> = { write: [], read: [] };
  const kindOk: Record<RequestKind, number> = { write: 0, read: 0 };
  const writeOkEnds: number[] = [];
  for (let i = 0; i < n; i++) {
    lat[i] = rec.latency(i);
    lag[i] = rec.start[i] - rec.due[i];
    firstDue = Math.min(firstDue, rec.due[i]);
    lastDue = Math.max(lastDue, rec.due[i]);
    lastEnd = Math.max(lastEnd, rec.end[i]);
    const good = rec.ok(i);
    const kind = rec.kindOf(i);
    if (good) {
      ok++;
      kindOk[kind]++;
      if (kind === 'write') writeOkEnds.push(rec.end[i]);
    }
    bytesIn += rec.bytesIn[i];
    bytesOut += rec.bytesOut[i];
    if (rec.hops[i] > 0) {
      hopWrites++;
      hops += rec.hops[i];
    }
    statusCodes[rec.status[i]] = (statusCodes[rec.status[i]] ?? 0) + 1;
    kindLat[kind].push(lat[i]);
  }
  const attack = n ? lastDue - firstDue : 0;
  const wait = n ? Math.max(0, lastEnd - lastDue) : 0;
  const sortedLag = sortedCopy(lag);
  const byKind: Summary['byKind'] = {};
  for (const kind of ['write', 'read'] as const) {
    if (kindLat[kind].length === 0) continue;
    byKind[kind] = {
      requests: kindLat[kind].length,
      ok: kindOk[kind],
      latencies: latencySummary(sortedCopy(kindLat[kind])),
    };
  }
  return {
    requests: n,
    rate: attack > 0 ? n / (attack / 1000) : 0,
    throughput: attack + wait > 0 ? ok / ((attack + wait) / 1000) : 0,
    duration: { total: attack + wait, attack, wait },
    latencies: latencySummary(sortedCopy(lat)),
    bytesIn: { total: bytesIn, mean: n ? bytesIn / n : 0 },
    bytesOut: { total: bytesOut, mean: n ? bytesOut / n : 0 },
    success: n ? ok / n : 0,
    statusCodes,
    errors: [...rec.errors],
    byKind,
    hops: { writes: hopWrites, total: hops },
    sendLag: { p50: percentile(sortedLag, 50), p99: percentile(sortedLag, 99), max: sortedLag[n - 1] ?? NaN },
    longestWriteGap: byKind.write ? longestGap(writeOkEnds, n ? Math.min(0, firstDue) : 0, lastEnd) : 0,
  };
}

/** Longest interval between consecutive successful-write completions, including from start and to end. */
function longestGap(ends: number[], from: number, to: number): number {
  ends.sort((a, b) => a - b);
  let prev = from;
  let gap = 0;
  for (const e of ends) {
    gap = Math.max(gap, e - prev);
    prev = e;
  }
  return Math.max(gap, to - prev);
}

/**
 * One bucket per second of the planned duration. Requests go to the second they were due in;
 * throughput goes to the second the response arrived in (responses after the last second are counted
 * in the last one, so the bucket count is the run's length in seconds).
 */
export function timeline(rec: Recorder, durationMs: number): TimelineBucket[] {
  const seconds = Math.max(1, Math.ceil(durationMs / 1000 - 1e-9));
  const lat: number[][] = Array.from({ length: seconds }, () => []);
  const ok = new Array<number>(seconds).fill(0);
  const done = new Array<number>(seconds).fill(0);
  const clamp = (ms: number): number => Math.min(seconds - 1, Math.max(0, Math.floor(ms / 1000)));
  for (let i = 0; i < rec.count; i++) {
    const b = clamp(rec.due[i]);
    lat[b].push(rec.latency(i));
    if (rec.ok(i)) {
      ok[b]++;
      done[clamp(rec.end[i])]++;
    }
  }
  return lat.map((values, s) => {
    const sorted = sortedCopy(values);
    return {
      second: s,
      count: values.length,
      ok: ok[s],
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      throughput: done[s],
    };
  });
}
