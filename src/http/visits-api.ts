// What the HTTP layer needs from a node for visit statistics: count a redirect (the hot path),
// read a code's statistics, and, on the leader, take another node's batch of counts.
import type { VisitsCommand } from '../shortener/commands.js';
import type { VisitSummary } from '../shortener/visit-stats.js';

export type { VisitSummary };

export interface VisitBatchOutcome {
  /** false: this batch (same origin, session, seq) was applied before and counted nothing now. */
  applied: boolean;
  /** Visits added (those of codes deleted since they were counted are dropped). */
  counted: number;
}

export interface VisitsApi {
  /** One redirect served by this node to the record `code` with this createdAt. Must be cheap. */
  recordVisit(code: string, createdAt: number): void;
  /** The code's statistics on this node's copy of the store. */
  visitsOf(code: string): VisitSummary;
  /** Leader only (NotLeaderError elsewhere): proposes a batch counted by another node. */
  acceptVisitBatch(batch: VisitsCommand): Promise<VisitBatchOutcome>;
}
