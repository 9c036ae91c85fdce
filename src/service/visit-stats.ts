// Visit statistics: every redirect served here is counted in memory (the hot path: a Map
// increment), sent on as batches — proposed here while this node leads, forwarded to the leader
// otherwise — and read back from the replicated store.
import type { Registry } from 'prom-client';
import { Role } from '../raft/index.js';
import type { VisitsCommand } from '../shortener/commands.js';
import type { UrlStore } from '../shortener/url-store.js';
import { summarizeVisits, type VisitSummary } from '../shortener/visit-stats.js';
import { batchForwarder } from '../visits/forward-batch.js';
import { VisitCounter } from '../visits/visit-counter.js';
import { capVisitDays } from '../visits/visit-day-window.js';
import { VisitFlusher } from '../visits/visit-flusher.js';
import { VisitMetrics } from '../visits/visit-metrics.js';
import { ForbiddenError, NOT_A_MEMBER, UnavailableError } from '../domain/errors.js';
import type { UrlRecord } from '../domain/records.js';
import { proposeCommand, type UrlRuntime } from './runtime-calls.js';

export type { VisitSummary };

export interface VisitBatchOutcome {
  /** false: this batch (same origin, session, seq) was applied before and counted nothing now. */
  applied: boolean;
  /** Visits added (those of codes deleted since they were counted are dropped). */
  counted: number;
}

export interface VisitStatsOptions {
  /** How often this node sends what it counted (one batch, one Raft entry). Default 1 s. */
  flushIntervalMs?: number;
  /** Sent with batches forwarded to the leader (POST /cluster/visits is a cluster endpoint). */
  clusterToken?: string;
  /** The cluster CA, when the API is HTTPS. */
  ca?: Buffer;
  metricsRegistry?: Registry;
  /** Told about a batch that could not be delivered (kept for a retry, or dropped). */
  onError?: (err: unknown, info: { seq: number; visits: number; attempts: number; dropped: boolean }) => void;
}

export type VisitRuntime = Pick<UrlRuntime, 'propose' | 'role' | 'member' | 'leaderId' | 'nodeId'>;

export class VisitStats {
  private readonly counter = new VisitCounter();
  private flusher: VisitFlusher | undefined;
  private metrics: VisitMetrics | undefined;

  constructor(
    private readonly runtime: VisitRuntime,
    private readonly store: Pick<UrlStore, 'visits' | 'lastVisitBatch'>,
  ) {}

  /** One redirect served by this node to the record `code` with this createdAt. Must be cheap. */
  recordVisit(code: string, createdAt: number): void {
    this.counter.record(code, createdAt);
  }

  /**
   * Whether the record has a visit limit and it is reached, as this node knows: the replicated
   * total plus the visits it served itself that its store does not hold yet (still counted here,
   * in the batch being delivered, or delivered but not applied here). See the README's visit limit.
   */
  visitLimitReached(record: UrlRecord): boolean {
    if (record.maxVisits === undefined) return false;
    const replicated = this.store.visits(record.code)?.total ?? 0;
    if (replicated >= record.maxVisits) return true;
    const unapplied =
      this.flusher?.unapplied(record.code, record.createdAt) ??
      this.counter.waiting(record.code, record.createdAt);
    return replicated + unapplied >= record.maxVisits;
  }

  /** The code's statistics on this node's copy of the store. */
  visitsOf(code: string): VisitSummary {
    return summarizeVisits(this.store.visits(code), Date.now());
  }

  /** Leader only (NotLeaderError elsewhere): proposes a batch counted by another node. */
  acceptVisitBatch(batch: VisitsCommand): Promise<VisitBatchOutcome> {
    // Only the cluster's own nodes count visits; an id that is not one (any more) sends nothing.
    if (this.runtime.member(batch.origin) === undefined) {
      throw new ForbiddenError(
        NOT_A_MEMBER,
        `node ${batch.origin} is not a member of this cluster; its visit counts are refused`,
      );
    }
    return this.proposeVisits(batch);
  }

  /**
   * Starts sending this node's visit counts every flushIntervalMs: proposed here while this node
   * leads, forwarded to the leader (POST /cluster/visits) otherwise.
   */
  start(options: VisitStatsOptions = {}): void {
    this.flusher?.stop();
    if (options.metricsRegistry && !this.metrics) {
      this.metrics = new VisitMetrics(options.metricsRegistry);
    }
    const forward = batchForwarder({ clusterToken: options.clusterToken, ca: options.ca });
    this.flusher = new VisitFlusher({
      counter: this.counter,
      origin: this.runtime.nodeId,
      intervalMs: options.flushIntervalMs,
      metrics: this.metrics,
      onError: options.onError,
      appliedSeq: (session) => this.store.lastVisitBatch(this.runtime.nodeId, session),
      deliver: async (batch) => {
        if (this.runtime.role === Role.Leader) {
          await this.proposeVisits(batch);
          return;
        }
        const leaderUrl = this.runtime.member(this.runtime.leaderId)?.httpUrl;
        if (!leaderUrl) throw new UnavailableError('no leader is known');
        await forward(leaderUrl, batch);
      },
    });
    this.flusher.start();
  }

  /** Stops the flusher after one last attempt to send what was counted (bounded by waitMs). */
  async stop(waitMs = 500): Promise<void> {
    const flusher = this.flusher;
    if (!flusher) return;
    flusher.stop();
    this.flusher = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([flusher.flush(), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private async proposeVisits(batch: VisitsCommand): Promise<VisitBatchOutcome> {
    // Decided here, on the leader's clock, so the command is plain data for apply.
    const command = capVisitDays(batch, Date.now());
    this.metrics?.batchesProposed.inc();
    const result = await proposeCommand(this.runtime, command);
    if (!result || !('visitBatch' in result)) {
      throw new Error('the state machine returned no visits result for a visits command');
    }
    return { applied: result.visitBatch === 'applied', counted: result.counted };
  }
}
