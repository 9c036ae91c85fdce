// Prometheus counters of visit statistics. Nothing here runs per redirect: visits are counted
// into the metrics when a batch is taken from the counter, not when they happen.
import { Counter, type Registry } from 'prom-client';

export class VisitMetrics {
  /** Batches this node proposed to Raft as leader (its own and those forwarded to it). */
  readonly batchesProposed: Counter;
  /** Batches this node sent (proposed itself or forwarded to the leader), by outcome. */
  readonly batchesSent: Counter<'result'>;
  /** Visits this node counted and put into batches. */
  readonly visitsBatched: Counter;
  /** Visits lost: in a batch given up on, or not counted because the counter was full. */
  readonly visitsDropped: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.batchesProposed = new Counter({
      name: 'visit_batches_proposed_total',
      help: 'Visit-statistics batches proposed to Raft by this node as leader (one entry each).',
      registers,
    });
    this.batchesSent = new Counter({
      name: 'visit_batches_sent_total',
      help: 'Visit-statistics batches of this node by outcome: delivered, retry (kept for the next round), dropped.',
      labelNames: ['result'],
      registers,
    });
    this.visitsBatched = new Counter({
      name: 'visits_batched_total',
      help: 'Redirects counted on this node and put into a batch.',
      registers,
    });
    this.visitsDropped = new Counter({
      name: 'visits_dropped_total',
      help: 'Counted redirects lost: in a batch given up on, or not counted because the counter was full.',
      registers,
    });
  }
}
