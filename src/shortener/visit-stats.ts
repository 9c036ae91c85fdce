// The visit statistics of one short URL, as stored under its code in the `visits` sub-database,
// and the one rule that changes them (addVisits), which apply runs on every node.
//
//   byte 0      record version (1)
//   bytes 1..8  float64 big-endian total (every visit ever counted, including days no longer kept)
//   byte 9      number of days n (at most VISIT_DAYS_KEPT)
//   n x         uint32 big-endian day (days since 1970-01-01 UTC) | float64 big-endian count,
//               in ascending day order
//
// Days are kept relative to the newest day counted for the code, never to a clock: apply must give
// the same bytes on every node whenever it runs.

/** How many days of per-day counts a code keeps. Part of the replicated rules: the same on every node. */
export const VISIT_DAYS_KEPT = 90;

const VERSION = 1;
const HEADER_BYTES = 1 + 8 + 1;
const DAY_BYTES = 4 + 8;
const MS_PER_DAY = 86_400_000;

export interface VisitStats {
  total: number;
  /** [day, count] pairs, ascending by day, at most VISIT_DAYS_KEPT of them. */
  days: ReadonlyArray<readonly [day: number, count: number]>;
}

/** The UTC day of an instant: JavaScript time has no leap seconds, so every day is 86,400,000 ms. */
export function utcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** "2026-11-21" for the day number. */
export function dayString(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The statistics after `count` more visits on `day`. Returns a new object (the overlay hands the
 * old one to a flush that may still be writing it). Days older than the newest day minus
 * VISIT_DAYS_KEPT - 1 are dropped; visits on such a day still count in the total.
 */
export function addVisits(stats: VisitStats | undefined, day: number, count: number): VisitStats {
  const days = stats?.days ?? [];
  const newest = Math.max(day, days.length > 0 ? days[days.length - 1]![0] : day);
  const oldestKept = newest - VISIT_DAYS_KEPT + 1;
  const next: Array<readonly [number, number]> = [];
  let added = day < oldestKept;
  for (const [d, n] of days) {
    if (d < oldestKept) continue;
    if (!added && d >= day) {
      if (d === day) {
        next.push([d, n + count]);
        added = true;
        continue;
      }
      next.push([day, count]);
      added = true;
    }
    next.push([d, n]);
  }
  if (!added) next.push([day, count]);
  return { total: (stats?.total ?? 0) + count, days: next };
}

export function encodeVisitStats({ total, days }: VisitStats): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + days.length * DAY_BYTES);
  let offset = out.writeUInt8(VERSION, 0);
  offset = out.writeDoubleBE(total, offset);
  offset = out.writeUInt8(days.length, offset);
  for (const [day, count] of days) {
    offset = out.writeUInt32BE(day, offset);
    offset = out.writeDoubleBE(count, offset);
  }
  return out;
}

export function decodeVisitStats(code: string, value: Uint8Array): VisitStats {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (b.length < HEADER_BYTES || b[0] !== VERSION || b.length !== HEADER_BYTES + b[9]! * DAY_BYTES) {
    // Only this module writes these records; anything else is corruption or a newer node's data.
    throw new Error(
      `stored visit statistics of code ${JSON.stringify(code)} are corrupt or of an unknown version`,
    );
  }
  const days: Array<readonly [number, number]> = [];
  for (let offset = HEADER_BYTES; offset < b.length; offset += DAY_BYTES) {
    days.push([b.readUInt32BE(offset), b.readDoubleBE(offset + 4)]);
  }
  return { total: b.readDoubleBE(1), days };
}

/** What GET /api/urls/:code shows. */
export interface VisitSummary {
  total: number;
  /** "2026-11-21" -> visits, for the last VISIT_DAYS_KEPT days on the reader's clock. */
  byDay: Record<string, number>;
}

/**
 * The statistics as shown to a client at `now` (the reading node's clock): days that fell out of
 * the window are hidden even if the code has not been visited since (and so not pruned yet).
 */
export function summarizeVisits(stats: VisitStats | undefined, now: number): VisitSummary {
  const byDay: Record<string, number> = {};
  const oldestShown = utcDay(now) - VISIT_DAYS_KEPT + 1;
  for (const [day, count] of stats?.days ?? []) {
    if (day >= oldestShown) byDay[dayString(day)] = count;
  }
  return { total: stats?.total ?? 0, byDay };
}
