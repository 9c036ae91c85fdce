// The --json report: the summary, the per-second timeline and the markers, as plain data for
// scripts (bench tables, CI thresholds). Per-request records stay out: they are what the HTML is for.
import type { RunResult } from './run.js';

export interface JsonReport {
  startedAt: string;
  options: RunResult['options'];
  leaderUrl: string;
  finalLeaderUrl: string;
  readNodes: string[];
  seeded: number;
  /** All times in ms. */
  summary: RunResult['summary'];
  timeline: RunResult['timeline'];
  markers: RunResult['markers'];
}

export function toJsonReport(r: RunResult): JsonReport {
  return {
    startedAt: r.startedAt,
    options: r.options,
    leaderUrl: r.leaderUrl,
    finalLeaderUrl: r.finalLeaderUrl,
    readNodes: r.readNodes,
    seeded: r.seeded,
    summary: r.summary,
    timeline: r.timeline,
    markers: r.markers,
  };
}

/** NaN (empty buckets) becomes null, which is what JSON can say. */
export function formatJsonReport(r: RunResult): string {
  return JSON.stringify(
    toJsonReport(r),
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}
