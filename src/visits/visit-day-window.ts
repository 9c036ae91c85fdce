// The leader's check of the days in a visits batch, before it proposes one.
//
// A batch's days come from the clock of the node that counted the visits, and apply keeps each
// code's per-day counts relative to the newest day it has seen (visit-stats.ts), the same bytes on
// every node whatever their clocks. So one node with a clock far ahead would make its day the
// newest for every code it counted: every real day falls out of the kept window, and later real
// visits, older than that newest day, never reach the per-day counts again. The leader therefore
// caps every day at its own clock (plus a day of tolerance); apply stays a function of the log alone.
//
// Days in the past are left as they are: apply counts a day older than the kept window in the
// total only, so it can never push real days out. Raising them to a floor on the leader's clock
// would do harm instead: a leader whose clock is ahead would move every node's real days forward.

import type { VisitsCommand } from '../shortener/commands.js';
import { utcDay } from '../shortener/visit-stats.js';

/** A counting node's clock may be this many days ahead of the leader's (a batch sent just after midnight). */
export const VISIT_DAYS_AHEAD = 1;

/**
 * The batch with every day after the leader's today + VISIT_DAYS_AHEAD (`now` is the leader's
 * clock) moved to that day, so those visits count as the latest allowed day's; the same object
 * when no day is that late.
 */
export function capVisitDays(batch: VisitsCommand, now: number): VisitsCommand {
  const latest = utcDay(now) + VISIT_DAYS_AHEAD;
  if (batch.visits.every((v) => v.day <= latest)) return batch;
  return { ...batch, visits: batch.visits.map((v) => (v.day > latest ? { ...v, day: latest } : v)) };
}
