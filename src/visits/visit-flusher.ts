// Every intervalMs, takes what the VisitCounter holds as one batch (one `visits` Raft command) and
// delivers it: proposed directly when this node leads, forwarded to the leader otherwise.
//
// Never counted twice: a batch keeps its id (origin, session, seq) and contents until it is
// delivered or given up on, and only one batch is in flight at a time. A retry after a timeout or
// a lost answer re-sends the same id, which apply recognises; a batch given up on may still commit
// later, but then either it is the only one with its id (counted once) or a later batch of this
// process was applied first (then apply skips it). The session is random per process, so a
// restarted node's seq 1 is not taken for a repeat of the previous process's seq 1.
//
// Lost on purpose: what is counted but not delivered when the process dies (at most one interval,
// more while the leader is unreachable), and a batch given up on after maxAttempts. Statistics are
// not worth blocking shutdown or growing memory for.

import { randomInt } from 'node:crypto';
import type { VisitsCommand } from '../shortener/commands.js';
import { MAX_VISITS_PER_BATCH } from './batch-wire.js';
import { VisitBatchError } from './forward-batch.js';
import type { VisitCounter } from './visit-counter.js';
import type { VisitMetrics } from './visit-metrics.js';

export const DEFAULT_STATS_FLUSH_INTERVAL_MS = 1_000;

/** Batches sent one after another in a round at most, when a backlog has built up. */
const MAX_BATCHES_PER_ROUND = 10;

export interface VisitFlusherOptions {
  counter: VisitCounter;
  /** This node's id: the batch's origin. */
  origin: number;
  /** Proposes the batch when this node leads, else forwards it to the leader; resolves once applied. */
  deliver: (batch: VisitsCommand) => Promise<void>;
  intervalMs?: number;
  /** A batch is given up on after this many failed deliveries (default 30). */
  maxAttempts?: number;
  metrics?: VisitMetrics;
  /** Told about a failed delivery; `dropped`: the batch was given up on. */
  onError?: (err: unknown, info: { seq: number; visits: number; attempts: number; dropped: boolean }) => void;
  /** Tests only: a fixed session instead of a random one. */
  session?: number;
  /**
   * The last seq of `session` (this flusher's) that the local store applied. When given, delivered
   * batches are remembered until then, for the visit limit (unapplied()).
   */
  appliedSeq?: (session: number) => number;
}

/** Delivered batches remembered at most while the local store lags (a long lag only loosens the limit). */
const MAX_DELIVERED_KEPT = 64;

/** A batch taken from the counter, with its counts per record for the visit limit. */
interface TakenBatch {
  batch: VisitsCommand;
  /** code -> [createdAt, count] */
  byCode: Map<string, [number, number]>;
}

export class VisitFlusher {
  readonly session: number;
  private nextSeq = 1;
  private pending:
    { batch: VisitsCommand; visits: number; attempts: number; byCode: TakenBatch['byCode'] } | undefined;
  /**
   * Batches delivered (applied on the leader) that this node's store may not have applied yet: the
   * visit limit counts them until the store's mark for this session reaches their seq.
   */
  private delivered: TakenBatch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private reportedDrops = 0;

  constructor(private readonly options: VisitFlusherOptions) {
    this.session = options.session ?? randomInt(0, 0x1_0000_0000);
  }

  start(): void {
    this.stop();
    this.timer = setInterval(
      () => void this.flush(),
      this.options.intervalMs ?? DEFAULT_STATS_FLUSH_INTERVAL_MS,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: delivers batches until the counter is empty or a delivery fails. Never rejects. */
  flush(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /**
   * Visits to this record counted here that the local store may not hold yet: still in the counter,
   * in the batch being delivered, or delivered but not applied here (`appliedSeq`: the last seq of
   * this session the local store applied). A batch given up on is not counted.
   */
  unapplied(code: string, createdAt: number): number {
    this.pruneDelivered();
    let n = this.options.counter.waiting(code, createdAt);
    const inFlight = [...this.delivered.map((d) => d.byCode), ...(this.pending ? [this.pending.byCode] : [])];
    for (const byCode of inFlight) {
      const seen = byCode.get(code);
      if (seen !== undefined && seen[0] === createdAt) n += seen[1];
    }
    return n;
  }

  private pruneDelivered(): void {
    const appliedSeq = this.options.appliedSeq?.(this.session) ?? Infinity;
    if (this.delivered.length > 0 && this.delivered[0]!.batch.seq <= appliedSeq) {
      this.delivered = this.delivered.filter((d) => d.batch.seq > appliedSeq);
    }
  }

  private async runRound(): Promise<void> {
    this.pruneDelivered();
    const { counter, metrics } = this.options;
    if (metrics && counter.dropped > this.reportedDrops) {
      metrics.visitsDropped.inc(counter.dropped - this.reportedDrops);
      this.reportedDrops = counter.dropped;
    }
    for (let i = 0; i < MAX_BATCHES_PER_ROUND; i++) {
      if (this.pending === undefined) {
        const visits = counter.take(MAX_VISITS_PER_BATCH);
        if (visits.length === 0) return;
        const total = visits.reduce((sum, v) => sum + v.count, 0);
        metrics?.visitsBatched.inc(total);
        const batch: VisitsCommand = {
          type: 'visits',
          origin: this.options.origin,
          session: this.session,
          seq: this.nextSeq++,
          visits,
        };
        const byCode = new Map<string, [number, number]>();
        for (const v of visits) {
          const seen = byCode.get(v.code);
          if (seen !== undefined && seen[0] === v.createdAt) seen[1] += v.count;
          else if (seen === undefined) byCode.set(v.code, [v.createdAt, v.count]);
        }
        this.pending = { batch, visits: total, attempts: 0, byCode };
      }
      const pending = this.pending;
      try {
        await this.options.deliver(pending.batch);
        if (this.options.appliedSeq !== undefined) {
          this.delivered.push({ batch: pending.batch, byCode: pending.byCode });
          if (this.delivered.length > MAX_DELIVERED_KEPT) this.delivered.shift();
        }
        this.pending = undefined;
        metrics?.batchesSent.inc({ result: 'delivered' });
      } catch (err) {
        pending.attempts++;
        const permanent = (err instanceof VisitBatchError && !err.retryable) || err instanceof RangeError;
        const dropped = permanent || pending.attempts >= (this.options.maxAttempts ?? 30);
        if (dropped) {
          this.pending = undefined;
          metrics?.visitsDropped.inc(pending.visits);
        }
        metrics?.batchesSent.inc({ result: dropped ? 'dropped' : 'retry' });
        this.options.onError?.(err, {
          seq: pending.batch.seq,
          visits: pending.visits,
          attempts: pending.attempts,
          dropped,
        });
        return;
      }
    }
  }
}
