// What the HTTP layer needs from a node for visit statistics (service/visit-stats.ts): count a
// redirect (the hot path), read a code's statistics, and, on the leader, take another node's batch.
import type { VisitStats } from '../service/visit-stats.js';

export type { VisitBatchOutcome, VisitSummary } from '../service/visit-stats.js';

export type VisitsApi = Pick<
  VisitStats,
  'recordVisit' | 'visitLimitReached' | 'visitsOf' | 'acceptVisitBatch'
>;
