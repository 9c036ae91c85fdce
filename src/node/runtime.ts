// The Raft runtime: the I/O around the pure core. It turns wall time into ticks, feeds the core
// the messages the transport delivers, and runs the ready loop —
//   send what may go at once → persist (one fsync per batch) → send acks → advance → apply —
// then settles the promises of callers whose proposals or reads are done.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  ConfChangeType,
  decodeConfChange,
  DEFAULT_COMMIT_BROADCAST_DELAY_MS,
  DEFAULT_CONFIG,
  DEFAULT_TICK_MS,
  emptyMessage,
  EntryType,
  MessageType,
  NONE,
  RaftNode,
  Role,
  type ConfChange,
  type Entry,
  type HardState,
  type Message,
  type PersistedState,
  type RaftConfig,
  type RaftStatus,
  type ReadState,
  type SnapshotMeta,
  type SoftState,
} from '../raft/index.js';
import { DiskFullError, NotMemberError, ProposalDroppedError, RuntimeStoppedError } from './errors.js';
import { decodeMemberContext, encodeMemberContext, inConf, MemberDirectory } from './members.js';
import { RaftMetrics } from './metrics.js';
import { WalDiskFullError, type Member, type NodeMetaStore } from './storage/index.js';
import { Waiters } from './waiters.js';

export interface StateMachine<R> {
  readonly appliedIndex: number;
  /**
   * Applies entries in order (empty data: nothing to do but record the index); returns one
   * result per command. Synchronous and never waiting for the disk: the log is the durable truth.
   */
  applyBatch(
    entries: ReadonlyArray<{ index: number; data: Uint8Array }>,
  ): Array<{ index: number; result: R }>;
  /** Writes everything applied so far to disk (called when stopping). */
  flush(): Promise<void>;
  /** The applied index as of the last write to disk: the log must keep every entry after it. */
  readonly durableAppliedIndex: number;
}

/** The state machine's snapshots, as the runtime uses them (the format is the store's business). */
export interface SnapshotStore {
  /** A consistent capture of the durable state at `index`; close() when done. */
  capture(): {
    readonly index: number;
    bytes(description: {
      term: number;
      confState: SnapshotMeta['confState'];
      members: Member[];
    }): AsyncIterable<Uint8Array>;
    close(): void;
  };
  /** Verifies and durably stores an incoming snapshot that must describe `expected`. */
  receive(
    expected: SnapshotMeta,
    data: AsyncIterable<Uint8Array>,
  ): Promise<{ path: string; header: { members: Member[] } }>;
  /** Replaces the state machine's contents with a stored snapshot; durable when it resolves. */
  install(path: string): Promise<unknown>;
  /** Deletes stored snapshots except `keep`. */
  discardAllExcept(keep?: string): Promise<void>;
}

export interface CapturedSnapshot {
  meta: SnapshotMeta;
  /** The snapshot file's bytes, generated lazily from one read transaction; iterate once. */
  bytes: AsyncIterable<Uint8Array>;
  close(): void;
}

/** When a node compacts its log (each node decides alone, as in etcd). */
export interface CompactionPolicy {
  /** Compact once this many entries are applied since the last compaction ... */
  thresholdEntries: number;
  /** ... or this many bytes of entry data were written since it. */
  thresholdBytes: number;
  /** Entries kept behind the compaction point, so a briefly lagging follower needs no snapshot. */
  catchUpEntries: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = {
  thresholdEntries: 100_000,
  thresholdBytes: 256 * 1024 * 1024,
  catchUpEntries: 10_000,
};

/** Where the Raft log and hard state are made durable (the WAL). */
export interface LogStore {
  /** Resolves once `hardState` and `entries` are on disk; entries replace stored ones from entries[0]. */
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void>;
  /** Durably records `snapshot` (entries up to it are gone) and frees what is ≤ throughIndex. */
  compact(throughIndex: number, snapshot: SnapshotMeta): Promise<void>;
}

export interface MessageTransport {
  send(messages: Message[]): void;
  /** Streams a snapshot to a peer; resolves with the bytes sent once the peer stored it. */
  sendSnapshot?(snapshot: {
    to: number;
    term: number;
    meta: SnapshotMeta;
    source: AsyncIterable<Uint8Array>;
    signal?: AbortSignal;
  }): Promise<number>;
  setPeer(id: number, raftAddr: string): void;
  removePeer(id: number): void;
}

export interface RuntimeTiming {
  /** Wall-clock length of one core tick. */
  tickMs: number;
  heartbeatTicks: number;
  electionTicks: number;
  /**
   * How long a leader holds a commit-index advance for the next AppendEntries to carry it, before
   * sending it on its own (RaftConfig.lazyCommitBroadcast). 0 sends it at once, as etcd does.
   * Followers apply (and serve a new code) up to this much later; client acks are not delayed.
   */
  commitBroadcastDelayMs: number;
}

export const DEFAULT_TIMING: RuntimeTiming = {
  tickMs: DEFAULT_TICK_MS,
  heartbeatTicks: DEFAULT_CONFIG.heartbeatTicks,
  electionTicks: DEFAULT_CONFIG.electionTicks,
  commitBroadcastDelayMs: DEFAULT_COMMIT_BROADCAST_DELAY_MS,
};

export interface RuntimeOptions<R> {
  nodeId: number;
  timing: RuntimeTiming;
  initialState: PersistedState;
  members: Member[];
  logStore: LogStore;
  metaStore: NodeMetaStore;
  stateMachine: StateMachine<R>;
  transport: MessageTransport;
  logger: Logger;
  /** How long a proposal may wait to be applied before its caller gets a timeout. */
  proposalTimeoutMs: number;
  /** Called when the node cannot go on safely (e.g. its disk failed): the process must exit. */
  onFatal: (error: Error) => void;
  raftOverrides?: Partial<RaftConfig>;
  /** Where to register Prometheus metrics (none when omitted). */
  metricsRegistry?: Registry;
  /** Snapshot capture/transfer/install; without it the log is never compacted. */
  snapshots?: SnapshotStore;
  compaction?: CompactionPolicy;
}

/** A learner within this many entries of the leader's last index is promoted to voter. */
const PROMOTION_MARGIN = 128;
/** Check learners for promotion every this many ticks. */
const PROMOTION_CHECK_TICKS = 10;

export interface RuntimeEvents {
  /** The role or the known leader changed. */
  'soft-state': [SoftState];
  /** Entries up to this index are applied. */
  applied: [number];
  /** Membership changed (after it was persisted). */
  membership: [Member[]];
}

export class RaftRuntime<R> extends EventEmitter<RuntimeEvents> {
  readonly nodeId: number;
  private readonly core: RaftNode;
  private readonly opts: RuntimeOptions<R>;
  private readonly log: Logger;
  private readonly members: MemberDirectory;
  private readonly proposals = new Waiters<number, R | undefined>();
  /** The term each waiting proposal was made in (an entry of another term at its index drops
   * it), and when, for the commit-latency histogram. */
  private readonly proposalTerms = new Map<number, { term: number; startedAt: number }>();
  private readonly metrics: RaftMetrics | undefined;
  private readonly readIndexes = new Waiters<string, number>();
  /** Reads whose index has not been answered yet, by context: re-asked when the leader changes. */
  private readonly readsAwaitingIndex = new Map<string, Uint8Array>();
  /** Read states whose index is not applied yet, waiting for apply to catch up. */
  private readonly readsAwaitingApply: Array<{ key: string; index: number }> = [];
  private nextReadId = 1;

  private ticker: NodeJS.Timeout | undefined;
  private ticks = 0;
  /** Armed while the core holds a commit advance back (lazyCommitBroadcast). */
  private commitBroadcastTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** Membership writes in flight (rare): proposals in the same batch are settled after them. */
  private membershipDone: Promise<void> = Promise.resolve();
  private stopped = false;
  private failed = false;
  /** The last durable write of the log found the disk full; it is being retried. */
  private diskFull = false;
  /** Snapshot transfers to followers in progress, by follower id. */
  private readonly snapshotTransfers = new Map<number, AbortController>();
  /** A snapshot received from the leader, stored, waiting for the core to hand it out. */
  private receivedSnapshot: { path: string; meta: SnapshotMeta; members: Member[] } | undefined;
  private receivingSnapshot = false;
  private compacting = false;
  /** Entry bytes persisted since the last compaction (the bytes threshold). */
  private bytesSinceCompaction = 0;
  private applied: number;
  private softState: SoftState = { leaderId: NONE, role: Role.Follower };
  /** A membership change (or a snapshot) removed this node while it runs; re-adding it undoes that. */
  private removed = false;

  constructor(opts: RuntimeOptions<R>) {
    super();
    this.opts = opts;
    this.nodeId = opts.nodeId;
    this.log = opts.logger;
    this.members = new MemberDirectory(opts.members);
    this.applied = opts.initialState.applied;
    this.core = new RaftNode(
      {
        ...DEFAULT_CONFIG,
        id: opts.nodeId,
        electionTicks: opts.timing.electionTicks,
        heartbeatTicks: opts.timing.heartbeatTicks,
        random: Math.random,
        lazyCommitBroadcast: opts.timing.commitBroadcastDelayMs > 0,
        ...opts.raftOverrides,
      },
      opts.initialState,
    );
    for (const m of this.members.list()) this.connectPeer(m);
    this.metrics = opts.metricsRegistry
      ? new RaftMetrics(opts.metricsRegistry, () => ({
          ...this.core.status(),
          appliedIndex: this.applied,
          snapshotIndex: this.core.snapshotIndex,
        }))
      : undefined;
  }

  start(): void {
    this.ticker = setInterval(() => this.onTick(), this.opts.timing.tickMs);
    this.schedule();
  }

  /** Stops ticking and taking work; waits for an in-progress persist/apply to finish. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    clearTimeout(this.commitBroadcastTimer);
    for (const transfer of this.snapshotTransfers.values()) transfer.abort();
    this.proposals.rejectAll(new RuntimeStoppedError());
    this.readIndexes.rejectAll(new RuntimeStoppedError());
    await this.loopDone;
    await this.membershipDone;
    await this.opts.stateMachine.flush();
  }

  // ------------------------------------------------------------- API for the service

  /** Proposes a command; resolves with the state machine's result once applied here. */
  propose(data: Uint8Array): Promise<R | undefined> {
    if (this.stopped) return Promise.reject(new RuntimeStoppedError());
    // It could not be made durable here; answering at once beats a commit timeout.
    if (this.diskFull) return Promise.reject(new DiskFullError());
    const ticket = this.core.propose(data);
    this.metrics?.proposals.inc();
    return this.awaitTicket(ticket.index, ticket.term);
  }

  /** Proposes a membership change; resolves once it is applied here. */
  async changeMembership(cc: ConfChange): Promise<void> {
    if (this.stopped) throw new RuntimeStoppedError();
    const ticket = this.core.proposeConfChange(cc);
    await this.awaitTicket(ticket.index, ticket.term);
  }

  addLearner(member: Member): Promise<void> {
    return this.changeMembership({
      type: ConfChangeType.AddLearner,
      nodeId: member.id,
      context: encodeMemberContext(member),
    });
  }

  removeMember(id: number): Promise<void> {
    return this.changeMembership({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) });
  }

  /**
   * ReadIndex: resolves with an index such that this node has applied at least it and a read of
   * local state is linearizable (Raft thesis §6.4).
   */
  readIndex(timeoutMs: number): Promise<number> {
    if (this.stopped) return Promise.reject(new RuntimeStoppedError());
    // The cluster no longer answers this node: fail now rather than at the timeout.
    if (this.removed) return Promise.reject(new NotMemberError(this.nodeId));
    // The leader keys pending reads by context, so it must be unique across the cluster: this
    // node's id, then a counter.
    const context = new Uint8Array(12);
    const view = new DataView(context.buffer);
    view.setUint32(0, this.nodeId);
    view.setFloat64(4, this.nextReadId++);
    // Throws NotLeaderError when no leader is known: before registering a waiter that would leak.
    this.core.readIndex(context);
    const key = contextKey(context);
    const waiting = this.readIndexes.wait(key, timeoutMs);
    this.readsAwaitingIndex.set(key, context);
    const forget = () => this.readsAwaitingIndex.delete(key);
    waiting.then(forget, forget);
    this.schedule();
    return waiting;
  }

  transferLeadership(to: number): void {
    this.core.transferLeadership(to);
    this.schedule();
  }

  /**
   * Before a leader stops: hand leadership to the most caught-up voter (TimeoutNow) and wait
   * until it has taken over, so clients see a short blip instead of an election timeout.
   * Returns the new leader's id, or undefined if this node was not leading or nobody took over.
   */
  async handOverLeadership(timeoutMs: number): Promise<number | undefined> {
    const st = this.core.status();
    if (st.role !== Role.Leader) return undefined;
    let best: { id: number; matchIndex: number } | undefined;
    for (const id of st.confState.voters) {
      const pr = st.progress.get(id);
      if (id === this.nodeId || !pr || !pr.recentActive) continue;
      if (!best || pr.matchIndex > best.matchIndex) best = { id, matchIndex: pr.matchIndex };
    }
    if (!best) return undefined;
    this.log.info({ to: best.id, matchIndex: best.matchIndex }, 'handing leadership over before stopping');
    const tookOver = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.off('soft-state', onChange);
        resolve(undefined);
      }, timeoutMs);
      const onChange = (ss: SoftState) => {
        if (ss.role !== Role.Leader && ss.leaderId !== NONE && ss.leaderId !== this.nodeId) {
          clearTimeout(timer);
          this.off('soft-state', onChange);
          resolve(ss.leaderId);
        }
      };
      this.on('soft-state', onChange);
    });
    this.transferLeadership(best.id);
    return tookOver;
  }

  /** Delivers messages from peers (called by the transport). */
  deliver(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) this.core.step(m);
    this.schedule();
  }

  status(): RaftStatus {
    return this.core.status();
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** Index the log is compacted to. */
  get snapshotIndex(): number {
    return this.core.snapshotIndex;
  }

  get leaderId(): number {
    return this.softState.leaderId;
  }

  get role(): Role {
    return this.softState.role;
  }

  member(id: number): Member | undefined {
    return this.members.get(id);
  }

  memberList(): Member[] {
    return this.members.list();
  }

  // ------------------------------------------------------------- snapshots and compaction

  /** Sends messages; snapshot notices become snapshot transfers instead of wire messages. */
  private sendMessages(messages: Message[]): void {
    let others = messages;
    if (messages.some((m) => m.type === MessageType.Snapshot)) {
      others = [];
      for (const m of messages) {
        if (m.type === MessageType.Snapshot) this.startSnapshotTransfer(m.to);
        else others.push(m);
      }
    }
    if (others.length > 0) this.opts.transport.send(others);
  }

  /**
   * The core found that follower `to` needs entries it compacted: stream it the state machine as
   * durable now (at an index ≥ the compaction point, so the follower can go on from there), and
   * report the outcome to the core, which then probes the follower again.
   */
  private startSnapshotTransfer(to: number): void {
    const snapshots = this.opts.snapshots;
    const transport = this.opts.transport;
    if (this.snapshotTransfers.has(to) || this.stopped) return;
    if (!snapshots || !transport.sendSnapshot) {
      this.core.reportSnapshot(to, true);
      return;
    }
    let capture: CapturedSnapshot;
    try {
      capture = this.captureSnapshot();
    } catch (err) {
      this.log.warn({ to, err: (err as Error).message }, 'cannot capture a snapshot; retrying later');
      this.core.reportSnapshot(to, true);
      return;
    }
    const meta = capture.meta;
    const term = this.core.status().term;
    const controller = new AbortController();
    this.snapshotTransfers.set(to, controller);
    const started = performance.now();
    this.log.info(
      { to, index: meta.index, term: meta.term },
      'sending a snapshot to a follower that is behind',
    );
    transport
      .sendSnapshot({
        to,
        term,
        meta,
        source: capture.bytes,
        signal: controller.signal,
      })
      .then(
        (bytes) => {
          const ms = Math.round(performance.now() - started);
          this.log.info({ to, index: meta.index, bytes, ms }, 'snapshot sent');
          this.metrics?.snapshotsSent.inc();
          this.metrics?.snapshotBytesSent.inc(bytes);
          this.core.reportSnapshot(to, false);
        },
        (err: Error) => {
          this.log.warn({ to, index: meta.index, err: err.message }, 'snapshot transfer failed; will retry');
          this.metrics?.snapshotsFailed.inc();
          this.core.reportSnapshot(to, true);
        },
      )
      .finally(() => {
        capture.close();
        this.snapshotTransfers.delete(to);
        this.schedule();
      });
  }

  /**
   * A consistent snapshot of the state machine as durable now, described for Raft (the entry's
   * term and the membership at its index): what a lagging follower is sent, and what a backup is.
   * The caller must close() it.
   */
  captureSnapshot(): CapturedSnapshot {
    const snapshots = this.opts.snapshots;
    if (!snapshots) throw new Error('this node keeps no snapshots');
    const capture = snapshots.capture();
    try {
      const meta = this.core.snapshotMetaAt(capture.index);
      return {
        meta,
        bytes: capture.bytes({ term: meta.term, confState: meta.confState, members: this.members.list() }),
        close: () => capture.close(),
      };
    } catch (err) {
      capture.close();
      throw err;
    }
  }

  /**
   * A snapshot streamed in by the leader (called by the transport). Resolves once it is verified
   * and stored durably, which acknowledges the transfer; installing it is then Raft's business.
   */
  async receiveSnapshot(incoming: {
    from: number;
    term: number;
    meta: SnapshotMeta;
    data: AsyncIterable<Uint8Array>;
  }): Promise<void> {
    const snapshots = this.opts.snapshots;
    if (!snapshots || this.stopped) throw new Error('this node does not take snapshots now');
    if (this.receivingSnapshot || this.receivedSnapshot)
      throw new Error('a snapshot is already being received');
    if (incoming.meta.index <= this.core.status().commitIndex) {
      throw new Error(`snapshot at ${incoming.meta.index} is not newer than what this node has committed`);
    }
    this.receivingSnapshot = true;
    try {
      const started = performance.now();
      const stored = await snapshots.receive(incoming.meta, incoming.data);
      if (this.stopped) return;
      this.log.info(
        { from: incoming.from, index: incoming.meta.index, ms: Math.round(performance.now() - started) },
        'received a snapshot from the leader',
      );
      const m = emptyMessage(MessageType.Snapshot, incoming.from, this.nodeId, incoming.term);
      m.snapshot = incoming.meta;
      this.core.step(m);
      if (this.core.hasPendingSnapshot()) {
        this.receivedSnapshot = { path: stored.path, meta: incoming.meta, members: stored.header.members };
      } else {
        // Stale by now (a newer leader, or entries arrived meanwhile): the core ignored it.
        await snapshots.discardAllExcept();
      }
      this.schedule();
    } finally {
      this.receivingSnapshot = false;
    }
  }

  /**
   * Installs the snapshot the core handed out (Raft thesis §5.1 ordering, as in etcd): the WAL
   * records it first (a crash after that finishes the install from the stored file at the next
   * start), then the state machine is replaced in one LMDB transaction, then the membership.
   */
  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const snapshots = this.opts.snapshots;
    const received = this.receivedSnapshot;
    this.receivedSnapshot = undefined;
    if (!snapshots || !received || received.meta.index !== meta.index || received.meta.term !== meta.term) {
      throw new Error(`the core asked to install a snapshot at ${meta.index} that this node has not stored`);
    }
    const started = performance.now();
    await this.opts.logStore.compact(meta.index, meta);
    await snapshots.install(received.path);
    this.replaceMembers(received.members, meta);
    await this.opts.metaStore.setMembership({
      confState: meta.confState,
      members: this.members.list(),
      appliedIndex: meta.index,
    });
    await snapshots.discardAllExcept();
    this.applied = Math.max(this.applied, meta.index);
    this.bytesSinceCompaction = 0;
    this.metrics?.snapshotsInstalled.inc();
    this.log.info(
      { index: meta.index, term: meta.term, ms: Math.round(performance.now() - started) },
      'installed a snapshot from the leader',
    );
    this.releaseReads();
    this.emit('applied', this.applied);
    this.emit('membership', this.members.list());
  }

  /** After a snapshot: the members are those of its membership, at the addresses it carries. */
  private replaceMembers(members: Member[], meta: SnapshotMeta): void {
    for (const m of this.members.list()) {
      if (!inConf(meta.confState, m.id)) {
        this.members.delete(m.id);
        if (m.id !== this.nodeId) this.opts.transport.removePeer(m.id);
        else this.removed = true;
      }
    }
    for (const m of members) {
      if (!inConf(meta.confState, m.id)) continue;
      if (m.id === this.nodeId) this.removed = false;
      this.members.set(m);
      this.connectPeer(this.members.get(m.id)!);
    }
  }

  /**
   * Compacts the log as far as the state machine is durable, whatever the thresholds and without
   * the tail kept for lagging followers: the disk is running out, and a follower that falls
   * behind can still be sent a snapshot. A no-op while a compaction runs or nothing is new.
   */
  compactNow(): void {
    this.maybeCompact(true);
  }

  /**
   * Compacts the log once enough was applied since the last compaction: up to what the state
   * machine has durably (never beyond: a restart replays the log from there), minus a tail kept
   * for followers that are only a little behind.
   */
  private maybeCompact(urgent = false): void {
    const policy = this.opts.compaction;
    if (!policy || !this.opts.snapshots || this.compacting || this.stopped) return;
    const since = this.applied - this.core.snapshotIndex;
    if (
      !urgent &&
      since < policy.thresholdEntries + policy.catchUpEntries &&
      this.bytesSinceCompaction < policy.thresholdBytes
    )
      return;
    const keep = urgent ? 0 : policy.catchUpEntries;
    const target = Math.min(this.opts.stateMachine.durableAppliedIndex, this.applied) - keep;
    if (target <= this.core.snapshotIndex) return;
    this.compacting = true;
    const started = performance.now();
    const meta = this.core.compact(target);
    this.bytesSinceCompaction = 0;
    this.opts.logStore.compact(target, meta).then(
      () => {
        this.compacting = false;
        this.metrics?.compactions.inc();
        this.log.info({ index: target, ms: Math.round(performance.now() - started) }, 'compacted the log');
      },
      (err: unknown) => {
        // A full disk only postpones compaction: the log keeps its entries, and the next try
        // records a newer snapshot.
        if (!(err instanceof WalDiskFullError)) return this.fail(err);
        this.compacting = false;
        this.log.warn({ index: target }, 'cannot compact the log now: the disk is full');
      },
    );
  }

  // ------------------------------------------------------------- the loop

  private onTick(): void {
    this.core.tick();
    this.ticks++;
    if (this.softState.role === Role.Leader && this.ticks % PROMOTION_CHECK_TICKS === 0)
      this.promoteCaughtUpLearners();
    this.schedule();
  }

  /**
   * Runs the loop at the end of this turn of the event loop, so that everything that arrived in
   * this turn (HTTP requests, peer messages) is handled in one batch and one fsync.
   */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.looping) {
        // A persist is in flight: the leader's AppendEntries need not wait for it.
        const now = this.core.drainMessages();
        if (now.length > 0) this.sendMessages(now);
        return;
      }
      this.loopDone = this.runLoop();
    });
  }

  private async runLoop(): Promise<void> {
    this.looping = true;
    try {
      while (!this.stopped && this.core.hasReady()) {
        const rd = this.core.ready();
        if (rd.messages.length > 0) this.sendMessages(rd.messages);
        // A snapshot from the leader replaces the log and the state machine before anything of
        // this Ready that comes after it is persisted or acknowledged.
        if (rd.snapshot) await this.installSnapshot(rd.snapshot);
        // A commit-index-only change need not be synced: the commit index is re-learned from the
        // leader after a restart, and the applied index is durable in the state machine.
        const saved = rd.mustSync ? this.persist(rd) : undefined;
        // Committed entries are already durable here (the core hands out only persisted ones):
        // apply them now, while this Ready's own entries are being written.
        if (rd.committedEntries.length > 0) this.apply(rd.committedEntries);
        if (saved) await saved;
        if (rd.messagesAfterPersist.length > 0) this.sendMessages(rd.messagesAfterPersist);
        this.core.advance(rd);
        if (rd.softState) this.onSoftState(rd.softState);
        for (const rs of rd.readStates) this.onReadState(rs);
      }
      this.armCommitBroadcast();
    } catch (err) {
      this.fail(err);
    } finally {
      this.looping = false;
    }
  }

  /**
   * A commit advance the core holds back goes out with the next proposal's AppendEntries, or on
   * its own after commitBroadcastDelayMs: one message per follower (and one ack back) saved per
   * write under steady load, at the cost of followers applying a little later.
   */
  private armCommitBroadcast(): void {
    if (this.commitBroadcastTimer !== undefined || this.stopped || !this.core.commitBroadcastPending) return;
    this.commitBroadcastTimer = setTimeout(() => {
      this.commitBroadcastTimer = undefined;
      if (this.stopped) return;
      this.core.flushCommitBroadcast();
      this.schedule();
    }, this.opts.timing.commitBroadcastDelayMs);
  }

  private async persist(rd: { hardState?: HardState; entries: Entry[] }): Promise<void> {
    const started = performance.now();
    await this.saveRetryingWhileDiskFull(rd);
    this.metrics?.fsyncLatency.observe((performance.now() - started) / 1000);
    for (const e of rd.entries) this.bytesSinceCompaction += e.data.byteLength;
    if (rd.entries.length > 0) this.metrics?.persistBatchSize.observe(rd.entries.length);
  }

  /**
   * A full disk is not a broken one: the log cut the partial write, so the same save is retried
   * (backing off up to a second) until it fits. Meanwhile this Ready is not acknowledged to the
   * core, so nothing that depends on it is sent or applied, and new proposals are refused.
   */
  private async saveRetryingWhileDiskFull(rd: { hardState?: HardState; entries: Entry[] }): Promise<void> {
    for (let waitMs = 50; ; waitMs = Math.min(waitMs * 2, 1_000)) {
      try {
        await this.opts.logStore.save(rd.hardState, rd.entries);
        break;
      } catch (err) {
        if (!(err instanceof WalDiskFullError) || this.stopped) throw err;
        if (!this.diskFull)
          this.log.warn({ err: err.message }, 'disk full: writes are refused until there is space');
        this.diskFull = true;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
    if (this.diskFull) this.log.info('disk space is back: writes resume');
    this.diskFull = false;
  }

  /** The node cannot go on safely (its disk or its state machine failed). */
  private fail(err: unknown): void {
    if (this.stopped && this.failed) return;
    this.failed = true;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    clearTimeout(this.commitBroadcastTimer);
    this.opts.onFatal(err instanceof Error ? err : new Error(String(err)));
  }

  /**
   * Applies committed entries to the state machine (in memory, no disk wait) and settles the
   * proposals and reads waiting for them. A membership change is first recorded durably, so a
   * restart never forgets it; proposals applied in the same batch wait for that write.
   */
  private apply(entries: Entry[]): void {
    const confEntries = entries.filter((e) => e.type === EntryType.ConfChange);
    const empty = new Uint8Array(0);
    const outcomes = this.opts.stateMachine.applyBatch(
      entries.map((e) => ({ index: e.index, data: e.type === EntryType.Normal ? e.data : empty })),
    );
    this.metrics?.applyBatchSize.observe(entries.length);
    if (confEntries.length === 0) {
      this.settleApplied(entries, outcomes);
      return;
    }
    this.membershipDone = this.applyMembership(confEntries).then(
      () => this.settleApplied(entries, outcomes),
      (err: unknown) => this.fail(err),
    );
  }

  private settleApplied(entries: Entry[], outcomes: Array<{ index: number; result: R }>): void {
    const resultByIndex = new Map<number, R>();
    for (const o of outcomes) resultByIndex.set(o.index, o.result);
    const now = performance.now();
    for (const e of entries) {
      const proposal = this.proposalTerms.get(e.index);
      if (proposal === undefined) continue;
      this.proposalTerms.delete(e.index);
      if (proposal.term === e.term) {
        this.metrics?.commitLatency.observe((now - proposal.startedAt) / 1000);
        this.proposals.resolve(e.index, resultByIndex.get(e.index));
      } else {
        this.proposals.reject(e.index, new ProposalDroppedError(e.index));
      }
    }
    // max: a batch held back by a membership write may settle after a later one.
    this.applied = Math.max(this.applied, entries[entries.length - 1].index);
    this.releaseReads();
    this.emit('applied', this.applied);
    this.maybeCompact();
  }

  /** Updates the member directory and peers now; resolves once the membership is durable. */
  private applyMembership(confEntries: Entry[]): Promise<void> {
    for (const e of confEntries) {
      const cc = decodeConfChange(e.data);
      if (cc.type === ConfChangeType.RemoveNode) {
        this.members.delete(cc.nodeId);
        if (cc.nodeId !== this.nodeId) this.opts.transport.removePeer(cc.nodeId);
        else {
          this.log.warn('this node was removed from the cluster; it will no longer take part');
          this.removed = true;
          // Nobody will answer the reads it asked the leader about: fail them now.
          this.readIndexes.rejectAll(new NotMemberError(this.nodeId));
        }
      } else {
        if (cc.nodeId === this.nodeId) this.removed = false;
        const member = decodeMemberContext(cc.nodeId, cc.context);
        this.members.set(member);
        this.connectPeer(this.members.get(cc.nodeId)!);
      }
    }
    const members = this.members.list();
    const confState = this.core.status().confState;
    this.log.info({ members, confState }, 'membership changed');
    return this.opts.metaStore
      .setMembership({ confState, members, appliedIndex: confEntries[confEntries.length - 1].index })
      .then(() => {
        this.emit('membership', members);
      });
  }

  private connectPeer(member: Member): void {
    if (member.id !== this.nodeId && member.raftAddr) this.opts.transport.setPeer(member.id, member.raftAddr);
  }

  /** Called by the server for a joining node, which learns its peers from the join answer. */
  learnMembers(members: Member[]): void {
    for (const m of members) {
      this.members.set(m);
      this.connectPeer(m);
    }
  }

  private onSoftState(ss: SoftState): void {
    const before = this.softState;
    this.softState = ss;
    if (before.role !== ss.role) {
      const campaigning = (r: Role) => r === Role.PreCandidate || r === Role.Candidate;
      // A single voter goes from follower to leader within one step: its campaign started too.
      if (campaigning(ss.role) || (ss.role === Role.Leader && !campaigning(before.role))) {
        this.metrics?.electionsStarted.inc();
      }
      if (ss.role === Role.Leader) this.metrics?.electionsWon.inc();
    }
    if (ss.leaderId !== NONE && ss.leaderId !== before.leaderId) this.reissueReads();
    if (before.leaderId !== ss.leaderId || before.role !== ss.role) {
      this.log.info(
        { role: ss.role, leaderId: ss.leaderId, term: this.core.status().term },
        'raft role or leader changed',
      );
      this.emit('soft-state', ss);
    }
  }

  /**
   * A new leader: reads asked of the old one may never be answered (it may be dead), so ask the
   * new one. A duplicate answer is harmless: a read settles once.
   */
  private reissueReads(): void {
    for (const context of this.readsAwaitingIndex.values()) {
      try {
        this.core.readIndex(context);
      } catch {
        return; // the leader is gone again; the next change retries
      }
    }
    this.schedule();
  }

  private onReadState(rs: ReadState): void {
    const key = contextKey(rs.context);
    this.readsAwaitingIndex.delete(key);
    if (!this.readIndexes.has(key)) return;
    if (rs.index <= this.applied) this.readIndexes.resolve(key, rs.index);
    else this.readsAwaitingApply.push({ key, index: rs.index });
  }

  private releaseReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    let kept = 0;
    for (const r of this.readsAwaitingApply) {
      if (r.index <= this.applied) this.readIndexes.resolve(r.key, r.index);
      else this.readsAwaitingApply[kept++] = r;
    }
    this.readsAwaitingApply.length = kept;
  }

  private awaitTicket(index: number, term: number): Promise<R | undefined> {
    this.proposalTerms.set(index, { term, startedAt: performance.now() });
    const result = this.proposals.wait(index, this.opts.proposalTimeoutMs);
    result.catch(() => {
      this.proposalTerms.delete(index);
      this.metrics?.proposalsFailed.inc();
    });
    this.schedule();
    return result;
  }

  private promoteCaughtUpLearners(): void {
    const st = this.core.status();
    for (const id of st.confState.learners) {
      const pr = st.progress.get(id);
      // Caught up = has replicated something, answered recently, and is close to our last index.
      // Without the first two, a learner that never started (or advertised an unreachable address)
      // would be promoted on a short log and could cost the cluster its quorum.
      if (!pr || pr.matchIndex === 0 || !pr.recentActive || pr.matchIndex + PROMOTION_MARGIN < st.lastIndex)
        continue;
      const member = this.members.get(id);
      if (!member) continue;
      try {
        this.changeMembership({
          type: ConfChangeType.AddVoter,
          nodeId: id,
          context: encodeMemberContext(member),
        }).then(
          () => this.log.info({ id }, 'learner caught up and was promoted to voter'),
          (err: Error) => this.log.warn({ id, err: err.message }, 'promotion of learner did not complete'),
        );
        this.log.info(
          { id, matchIndex: pr.matchIndex, lastIndex: st.lastIndex },
          'promoting caught-up learner',
        );
      } catch {
        // Another membership change is pending; try again at the next check.
      }
      return;
    }
  }
}

function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('hex');
}
