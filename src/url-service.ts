// The node as the HTTP layer sees it (NodeApi, VisitsApi): URL-store commands proposed through
// Raft, local reads from the store, cluster status and membership, and visit statistics (counted
// here, batched to the leader by a VisitFlusher). It translates runtime errors into the service's
// typed errors (service/errors.ts), which HTTP answers from its error table.
import type { Registry } from 'prom-client';
import type { NodeApi } from './http/node-api.js';
import type { ClusterStatus, JoinRequest, MemberInfo } from './service/cluster-status.js';
import {
  CODE_TAKEN,
  MEMBER_EXISTS,
  MEMBERSHIP_CHANGE_IN_PROGRESS,
  NOT_A_MEMBER,
  NOT_LEADER,
  CommitTimeoutError,
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotLeaderError,
  UnavailableError,
  aliasTaken,
} from './service/errors.js';
import type { CreateCommandInput, CreateResult, UrlRecord } from './service/records.js';
import type { VisitBatchOutcome, VisitsApi, VisitSummary } from './http/visits-api.js';
import { DiskFullError, NotMemberError, ProposalDroppedError, RuntimeStoppedError } from './node/errors.js';
import type { RaftRuntime } from './node/runtime.js';
import { DeadlineError } from './node/waiters.js';
import { NotLeaderError as RaftNotLeaderError, ProposalRejectedError, Role } from './raft/index.js';
import { encodeCommand, type CreateCommand, type VisitsCommand } from './shortener/commands.js';
import type { ApplyResult, PurgeResult, UrlStore } from './shortener/url-store.js';
import { summarizeVisits } from './shortener/visit-stats.js';
import type { ForwardJoin } from './join-forward.js';
import { batchForwarder } from './visits/forward-batch.js';
import { VisitCounter } from './visits/visit-counter.js';
import { VisitFlusher } from './visits/visit-flusher.js';
import { VisitMetrics } from './visits/visit-metrics.js';
import { PurgeClock } from './purge-clock.js';
import { capVisitDays } from './visits/visit-day-window.js';
import { ReadBarrier } from './read-barrier.js';

export interface PurgerOptions {
  /** How often the leader looks for expired records and keys. Default 60 s. */
  intervalMs?: number;
  /** Expired records keep answering 410 this long before a purge removes them (then 404). Default 1 h. */
  expiredRetentionMs?: number;
  /** At most this many removals per purge entry; the leader proposes more while some are left. Default 5,000. */
  batchLimit?: number;
  /** Told about a purge that failed (e.g. leadership moved); the next interval tries again. */
  onError?: (err: unknown) => void;
  /** Told about each applied purge. */
  onPurged?: (result: PurgeResult) => void;
  /** Told when the wall clock runs ahead of the last purge by more than this leader measured. */
  onClockAhead?: (info: { heldBackMs: number; purgeNow: number }) => void;
}

export const DEFAULT_PURGE_INTERVAL_MS = 60_000;
export const DEFAULT_EXPIRED_RETENTION_MS = 60 * 60_000;

/** Several purge entries in a row at most per interval, so a backlog cannot crowd out client writes. */
const MAX_PURGES_PER_ROUND = 20;

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

/** How long a redirect miss on a follower may wait for its ReadIndex round before the local 404. */
export const DEFAULT_MISS_CHECK_TIMEOUT_MS = 1_000;

export class UrlService implements NodeApi, VisitsApi {
  private ready = false;
  private draining = false;
  private readonly missBarrier: ReadBarrier;
  private purgeTimer: NodeJS.Timeout | undefined;
  private purging = false;
  private readonly purgeClock = new PurgeClock();
  private readonly visitCounter = new VisitCounter();
  private visitFlusher: VisitFlusher | undefined;
  private visitMetrics: VisitMetrics | undefined;
  private forwardJoin: ForwardJoin | undefined;

  constructor(
    private readonly runtime: RaftRuntime<ApplyResult>,
    private readonly store: UrlStore,
    private readonly clusterId: string,
    private readonly proposalTimeoutMs: number,
    missCheckTimeoutMs = DEFAULT_MISS_CHECK_TIMEOUT_MS,
  ) {
    this.missBarrier = new ReadBarrier((t) => this.runtime.readIndex(t), missCheckTimeoutMs);
  }

  async createShortUrl(input: CreateCommandInput): Promise<CreateResult> {
    const command: CreateCommand = {
      type: 'create',
      code: input.code,
      url: input.url,
      createdAt: input.createdAt,
    };
    if (input.alias) command.alias = true;
    if (input.expiresAt !== undefined) command.expiresAt = input.expiresAt;
    if (input.idempotency !== undefined) command.idempotency = { ...input.idempotency };
    const result = await this.translate(() => this.runtime.propose(encodeCommand(command)));
    if (!result || (!('created' in result) && !('error' in result))) {
      throw new Error('the state machine returned no create result for a create command');
    }
    if ('error' in result) {
      switch (result.error) {
        case 'code_taken':
          throw new ConflictError(CODE_TAKEN, `code ${result.code} is already taken`);
        case 'alias_taken':
          throw aliasTaken(result.code);
        case 'idempotency_key_reused':
          throw new IdempotencyKeyReusedError();
      }
    }
    return result;
  }

  async deleteShortUrl(code: string): Promise<boolean> {
    const result = await this.translate(() => this.runtime.propose(encodeCommand({ type: 'delete', code })));
    if (!result || !('deleted' in result)) {
      throw new Error('the state machine returned no delete result for a delete command');
    }
    return result.deleted;
  }

  /**
   * Proposes one purge if this node leads and its store has something to purge; resolves with the
   * applied result, or undefined when there was nothing to do. `wallNow` is this leader's clock,
   * held back when it runs ahead of what this leader has measured since the last purge
   * (purge-clock.ts): every node applies the same instants.
   */
  async purgeExpired(
    wallNow: number,
    expiredRetentionMs: number,
    limit: number,
    onClockAhead?: (info: { heldBackMs: number; purgeNow: number }) => void,
  ): Promise<PurgeResult | undefined> {
    if (this.runtime.role !== Role.Leader) return undefined;
    const { now, heldBackMs } = this.purgeClock.decide(wallNow, this.store.lastPurgeNow, expiredRetentionMs);
    if (heldBackMs > 0) onClockAhead?.({ heldBackMs, purgeNow: now });
    const expiredBefore = now - expiredRetentionMs;
    if (!this.store.hasPurgeable(now, expiredBefore)) return undefined;
    const result = await this.translate(() =>
      this.runtime.propose(encodeCommand({ type: 'purge', now, expiredBefore, limit })),
    );
    if (!result || !('purgedUrls' in result)) {
      throw new Error('the state machine returned no purge result for a purge command');
    }
    return result;
  }

  /**
   * Every intervalMs, on the leader only: purge what expired (records past the retention, keys past
   * their lifetime) through the log, so every node removes the same entries. Followers never purge
   * on their own; they answer 410 for an expired record until the purge reaches them.
   */
  startPurger(options: PurgerOptions = {}): void {
    this.stopPurger();
    const intervalMs = options.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    const retention = options.expiredRetentionMs ?? DEFAULT_EXPIRED_RETENTION_MS;
    const limit = options.batchLimit ?? 5_000;
    this.purgeTimer = setInterval(() => {
      if (this.purging) return;
      this.purging = true;
      void (async () => {
        try {
          for (let round = 0; round < MAX_PURGES_PER_ROUND; round++) {
            const result = await this.purgeExpired(Date.now(), retention, limit, options.onClockAhead);
            if (result === undefined) break;
            options.onPurged?.(result);
            if (!result.more) break;
          }
        } catch (err) {
          options.onError?.(err);
        } finally {
          this.purging = false;
        }
      })();
    }, intervalMs);
    this.purgeTimer.unref();
  }

  stopPurger(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }

  /** The redirect hot path: a Map increment; the flusher sends the counts later. */
  recordVisit(code: string, createdAt: number): void {
    this.visitCounter.record(code, createdAt);
  }

  visitsOf(code: string): VisitSummary {
    return summarizeVisits(this.store.visits(code), Date.now());
  }

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
  startVisitStats(options: VisitStatsOptions = {}): void {
    this.visitFlusher?.stop();
    if (options.metricsRegistry && !this.visitMetrics) {
      this.visitMetrics = new VisitMetrics(options.metricsRegistry);
    }
    const forward = batchForwarder({ clusterToken: options.clusterToken, ca: options.ca });
    this.visitFlusher = new VisitFlusher({
      counter: this.visitCounter,
      origin: this.runtime.nodeId,
      intervalMs: options.flushIntervalMs,
      metrics: this.visitMetrics,
      onError: options.onError,
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
    this.visitFlusher.start();
  }

  /** Stops the flusher after one last attempt to send what was counted (bounded by waitMs). */
  async stopVisitStats(waitMs = 500): Promise<void> {
    const flusher = this.visitFlusher;
    if (!flusher) return;
    flusher.stop();
    this.visitFlusher = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([flusher.flush(), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private async proposeVisits(batch: VisitsCommand): Promise<VisitBatchOutcome> {
    // Decided here, on the leader's clock, so the command is plain data for apply.
    const data = encodeCommand(capVisitDays(batch, Date.now()));
    this.visitMetrics?.batchesProposed.inc();
    const result = await this.translate(() => this.runtime.propose(data));
    if (!result || !('visitBatch' in result)) {
      throw new Error('the state machine returned no visits result for a visits command');
    }
    return { applied: result.visitBatch === 'applied', counted: result.counted };
  }

  lookup(code: string): UrlRecord | undefined {
    return this.store.get(code);
  }

  /**
   * The leader's own miss is final (it acknowledged every create after applying it). A follower's
   * waits for one shared ReadIndex round; if that fails (no leader, lost quorum, timeout) the local
   * answer stands: the node is then as current as it can know, and its readiness tells a balancer.
   */
  async lookupAfterMiss(code: string): Promise<UrlRecord | undefined> {
    if (this.runtime.role === Role.Leader) return this.store.get(code);
    await this.missBarrier.wait();
    return this.store.get(code);
  }

  async lookupLinearizable(code: string): Promise<UrlRecord | undefined> {
    await this.translate(() => this.runtime.readIndex(this.proposalTimeoutMs));
    return this.store.get(code);
  }

  status(): ClusterStatus {
    const st = this.runtime.status();
    const leader = this.runtime.member(st.leaderId);
    return {
      id: st.id,
      clusterId: this.clusterId,
      role: st.role,
      term: st.term,
      leaderId: st.leaderId,
      leaderUrl: leader?.httpUrl || null,
      commitIndex: st.commitIndex,
      appliedIndex: this.runtime.appliedIndex,
      snapshotIndex: this.runtime.snapshotIndex,
      members: this.memberInfos(st),
    };
  }

  async backup(): Promise<{ index: number; term: number; bytes: AsyncIterable<Uint8Array>; close(): void }> {
    // A backup holds everything applied here when it was asked for, not just the last timed
    // flush (a transfer to a follower need not wait: the log covers the difference).
    await this.store.flush();
    const snapshot = this.runtime.captureSnapshot();
    return {
      index: snapshot.meta.index,
      term: snapshot.meta.term,
      bytes: snapshot.bytes,
      close: snapshot.close,
    };
  }

  async addMember(request: JoinRequest, options: { forwarded?: boolean } = {}): Promise<MemberInfo[]> {
    if (this.runtime.role !== Role.Leader && !options.forwarded && this.forwardJoin) {
      return this.passJoinToLeader(this.forwardJoin, request);
    }
    this.requireLeader();
    const existing = this.runtime.member(request.id);
    if (existing && !this.mayRejoin(existing, request)) {
      // A joiner retrying after a lost answer: the change is already in (or on its way).
      return this.memberInfos();
    }
    await this.translate(() => this.runtime.addLearner(request));
    return this.memberInfos();
  }

  /** Lets a follower pass joins on to its leader (see join-forward.ts). */
  enableJoinForwarding(forward: ForwardJoin): void {
    this.forwardJoin = forward;
  }

  /** A join that reached a follower, answered by the leader (its errors keep their codes). */
  private async passJoinToLeader(forward: ForwardJoin, request: JoinRequest): Promise<MemberInfo[]> {
    const leaderId = this.runtime.leaderId;
    const leaderUrl = leaderId ? this.runtime.member(leaderId)?.httpUrl : undefined;
    if (!leaderUrl) throw this.notLeader(leaderId);
    let answer;
    try {
      answer = await forward(leaderUrl, request);
    } catch (err) {
      throw new UnavailableError(
        `the leader (node ${leaderId}) could not be reached: ${(err as Error).message}`,
      );
    }
    const { status, body } = answer;
    if (status === 200 && Array.isArray(body.members)) return body.members as MemberInfo[];
    const message = typeof body.message === 'string' ? body.message : `the leader answered ${status}`;
    if (status === 409 && typeof body.error === 'string' && body.error !== NOT_LEADER) {
      throw new ConflictError(body.error, message);
    }
    // Leadership moved, no quorum, a timeout: the joiner retries.
    throw new UnavailableError(`the leader (node ${leaderId}) did not take the join: ${message}`);
  }

  /**
   * Whether a join under the id of an existing member adds it again (true), is a retry of its own
   * join (false), or is refused (throws). A join never changes a member's addresses, and a node
   * that runs on other data than the member (its data dir was lost: it forgot its votes and its
   * log) never takes the member's place once that member counts or holds entries: only a learner
   * that has replicated nothing yet (a join interrupted before it stored anything) is taken over.
   */
  private mayRejoin(existing: Omit<MemberInfo, 'voter'>, request: JoinRequest): boolean {
    const id = request.id;
    if (existing.httpUrl !== request.httpUrl || existing.raftAddr !== request.raftAddr) {
      throw new ConflictError(
        MEMBER_EXISTS,
        `node ${id} is already a member at ${existing.httpUrl} (raft ${existing.raftAddr}); a join never ` +
          `changes a member's addresses: remove member ${id} first, or join with another id`,
      );
    }
    if (existing.nodeUuid === request.nodeUuid) return false;
    const st = this.runtime.status();
    const voter = st.confState.voters.includes(id);
    if (voter || (st.progress.get(id)?.matchIndex ?? 0) > 0) {
      throw new ConflictError(
        MEMBER_EXISTS,
        `node ${id} is already a member (${voter ? 'a voter' : 'a learner holding entries'}) running on other ` +
          `data (node UUID ${existing.nodeUuid ?? 'unknown'}, the joiner's is ${request.nodeUuid ?? 'unknown'}): ` +
          `this node's data dir was lost or replaced, and a node that forgot its votes and log must not ` +
          `count as that member. Remove the old member first (DELETE /cluster/members/${id} on the ` +
          `leader), then start this node again with --join to join as a new member; or give it a new --id.`,
      );
    }
    return true;
  }

  async removeMember(id: number): Promise<MemberInfo[]> {
    this.requireLeader();
    if (!this.runtime.member(id)) throw new ConflictError(NOT_A_MEMBER, `node ${id} is not a member`);
    if (id === this.runtime.nodeId) {
      // Removing the leader itself: hand leadership over first (as on SIGTERM), so the cluster
      // gets a ~10 ms blip instead of an election timeout; the client retries on the new leader.
      const newLeader = await this.runtime.handOverLeadership(2_000);
      if (newLeader !== undefined) throw this.notLeader(newLeader);
    }
    await this.translate(() => this.runtime.removeMember(id));
    return this.memberInfos();
  }

  isReady(): boolean {
    return this.ready && !this.draining && this.runtime.leaderId !== 0;
  }

  isReadyForRedirects(): boolean {
    return this.ready && !this.draining;
  }

  /** The node is shutting down: both readiness checks answer 503 from now on. */
  beginDrain(): void {
    this.draining = true;
  }

  markReady(): void {
    this.ready = true;
  }

  /** `st`: the core's status when the caller already has it (building one walks every peer). */
  private memberInfos(st = this.runtime.status()): MemberInfo[] {
    return this.runtime.memberList().map((m) => {
      const progress = st.progress.get(m.id);
      return {
        id: m.id,
        httpUrl: m.httpUrl,
        raftAddr: m.raftAddr,
        ...(m.nodeUuid === undefined ? {} : { nodeUuid: m.nodeUuid }),
        voter: st.confState.voters.includes(m.id),
        ...(progress ? { matchIndex: progress.matchIndex } : {}),
      };
    });
  }

  private requireLeader(): void {
    if (this.runtime.role !== Role.Leader) throw this.notLeader(this.runtime.leaderId);
  }

  private notLeader(leaderId: number): NotLeaderError {
    const url = leaderId ? this.runtime.member(leaderId)?.httpUrl || null : null;
    return new NotLeaderError(url ? leaderId : 0, url);
  }

  /** Runs a runtime call, mapping its errors to the HTTP layer's. */
  private async translate<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof RaftNotLeaderError) throw this.notLeader(err.leaderId);
      if (err instanceof DeadlineError) throw new CommitTimeoutError(err.timeoutMs);
      if (err instanceof ProposalDroppedError) throw new UnavailableError(err.message);
      if (err instanceof RuntimeStoppedError) throw new UnavailableError(err.message);
      if (err instanceof NotMemberError) throw new UnavailableError(err.message);
      if (err instanceof DiskFullError) throw new UnavailableError(err.message);
      if (err instanceof ProposalRejectedError)
        throw new ConflictError(MEMBERSHIP_CHANGE_IN_PROGRESS, err.message);
      throw err;
    }
  }
}
