// Counts the redirects this node serves, in memory, until the flusher takes them as a batch.
//
// record() runs on every redirect, so it is a clock read, a Map lookup and an increment; the UTC
// day is recomputed only when the clock leaves the current day. Counts are kept per (day, code)
// so a batch carries the day on which each visit happened here, whenever it is applied.

import { utcDay } from '../shortener/visit-stats.js';
import type { VisitCount } from '../shortener/commands.js';

interface Tally {
  /** createdAt of the record the visits went to (a code deleted and taken again is another record). */
  createdAt: number;
  count: number;
}

/** Per code: at most this many visits in one (day, code) count; the codec stores a uint32. */
const MAX_COUNT = 0xffffffff;
const MS_PER_DAY = 86_400_000;

export class VisitCounter {
  private day = Number.NaN;
  private dayStart = 0;
  private dayEnd = 0;
  private today = new Map<string, Tally>();
  /** Days the clock has left that still hold counts not taken yet. */
  private readonly earlier = new Map<number, Map<string, Tally>>();
  private keys = 0;
  /** Visits not counted because the counter was full (the leader unreachable for long). */
  dropped = 0;

  constructor(
    /** Distinct (day, code) pairs held at most: memory stays bounded when batches cannot be delivered. */
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** One redirect to `code`, whose record has this createdAt. */
  record(code: string, createdAt: number): void {
    const now = this.now();
    if (now >= this.dayEnd || now < this.dayStart) this.switchDay(now);
    const tally = this.today.get(code);
    if (tally !== undefined && tally.createdAt === createdAt) {
      if (tally.count < MAX_COUNT) tally.count++;
      return;
    }
    if (tally === undefined) {
      if (this.keys >= this.maxKeys) {
        this.dropped++;
        return;
      }
      this.keys++;
    }
    // A different createdAt: the code now belongs to another record; the old one's visits would be
    // dropped by apply anyway (its record is gone).
    this.today.set(code, { createdAt, count: 1 });
  }

  /** Visits to this record counted here and not taken yet (the visit limit adds them to the replicated total). */
  waiting(code: string, createdAt: number): number {
    let n = 0;
    const tally = this.today.get(code);
    if (tally !== undefined && tally.createdAt === createdAt) n += tally.count;
    for (const tallies of this.earlier.values()) {
      const t = tallies.get(code);
      if (t !== undefined && t.createdAt === createdAt) n += t.count;
    }
    return n;
  }

  /** Distinct (day, code) pairs waiting. */
  get size(): number {
    return this.keys;
  }

  /** Takes (and forgets) up to `max` counts, oldest days first. */
  take(max: number): VisitCount[] {
    const out: VisitCount[] = [];
    const drain = (day: number, tallies: Map<string, Tally>) => {
      for (const [code, { createdAt, count }] of tallies) {
        if (out.length >= max) return;
        out.push({ code, createdAt, day, count });
        tallies.delete(code);
        this.keys--;
      }
    };
    for (const [day, tallies] of this.earlier) {
      drain(day, tallies);
      if (tallies.size === 0) this.earlier.delete(day);
      if (out.length >= max) return out;
    }
    drain(this.day, this.today);
    return out;
  }

  private switchDay(now: number): void {
    // Never already in `earlier`: entering a day takes its map out of it.
    if (this.today.size > 0) this.earlier.set(this.day, this.today);
    this.day = utcDay(now);
    this.dayStart = this.day * MS_PER_DAY;
    this.dayEnd = this.dayStart + MS_PER_DAY;
    // The clock may come back to a day it left (a step backwards): continue that day's counts.
    this.today = this.earlier.get(this.day) ?? new Map();
    this.earlier.delete(this.day);
  }
}
