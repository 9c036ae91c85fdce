// The consensus core's role logic, as etcd's raft.go: what a follower, a candidate and a leader do
// with each message, local input and tick. Its outputs (messages, read states, a snapshot to
// install, log entries to persist and apply) accumulate here; RaftNode (raft-node.ts) hands them
// to the runtime in Ready batches. Membership, progress and votes are the tracker's (tracker.ts).
import type { PersistedState, ProposalTicket, RaftConfig, RaftStatus } from './api.js';
import { decodeConfChange, replayConfChanges } from './confchange.js';
import { NotLeaderError, ProposalRejectedError } from './errors.js';
import { isLocalMessage, LocalMessageType, type LocalMessage } from './local.js';
import { RaftLog } from './log.js';
import { ProgressState, type Progress } from './progress.js';
import { VoteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import { copyConf, ProgressTracker } from './tracker.js';
import {
  EMPTY_BYTES,
  emptyMessage,
  EntryType,
  MessageType,
  NONE,
  Role,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type SnapshotMeta,
  type SoftState,
} from './types.js';

/** Vote context marking an election started by leadership transfer: it bypasses leader leases. */
const CAMPAIGN_TRANSFER = new Uint8Array([0x74]);

/** Responses and vote requests promise what this node has persisted: they wait for the disk. */
const AFTER_PERSIST = new Set<MessageType>([
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.AppResp,
  MessageType.HeartbeatResp,
]);

function isTransfer(context: Uint8Array): boolean {
  return context.length === 1 && context[0] === CAMPAIGN_TRANSFER[0];
}

/** Package-internal: the runtime and the simulation drive it through RaftNode. */
export class Raft {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  private term: number;
  private vote: NodeId;
  private leaderId: NodeId = NONE;
  private role: Role = Role.Follower;
  readonly log: RaftLog;
  /** Membership, each member's progress, votes: and the quorum questions over them. */
  private readonly trk: ProgressTracker;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  /** Index of the latest membership change proposed; a new one waits until it is applied. */
  private pendingConfIndex = 0;
  private leadTransferee: NodeId = NONE;
  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private pendingReadIndex: Array<{ context: Uint8Array; from: NodeId }> = [];

  private msgs: Message[] = [];
  private msgsAfterPersist: Message[] = [];
  private readStates: ReadState[] = [];
  /** New entries (or new members) to replicate: followers get AppendEntries at the next flush. */
  private appendsPending = false;
  /**
   * The commit index advanced since the last broadcast. Flushed with the appends, or (with
   * lazyCommitBroadcast) only by flushCommitBroadcast().
   */
  private commitPending = false;
  private pendingSnapshot: SnapshotMeta | undefined;
  /** Membership as of the snapshot (log.snapshotIndex): where replays of conf changes start. */
  private snapshotConf: ConfState;

  constructor(config: RaftConfig, persisted: PersistedState) {
    if (config.heartbeatTicks >= config.electionTicks) {
      throw new Error('heartbeatTicks must be smaller than electionTicks');
    }
    this.id = config.id;
    this.cfg = config;
    this.term = persisted.hardState.term;
    this.vote = persisted.hardState.vote;
    const snap = persisted.snapshot;
    this.log = new RaftLog({
      snapshotIndex: snap?.index ?? 0,
      snapshotTerm: snap?.term ?? 0,
      entries: persisted.entries,
      commit: persisted.hardState.commit,
      applied: persisted.applied,
    });
    // Membership changes already applied live in the log too: replay them over the given state
    // (re-applying one that confState already includes changes nothing), so a restarted node
    // uses the same quorum as the others.
    const conf = replayConfChanges(persisted.confState, persisted.entries, this.log.applied);
    this.trk = new ProgressTracker(conf, config.maxInflightMessages);
    // Without a snapshot, the membership "at index 0" depends on how the cluster began. A
    // bootstrapped log (bootstrap.ts) opens with conf-change entries that add the initial members,
    // so it describes its membership itself from index 1 and the membership before it is empty
    // (whatever later membership the runtime passes). A cluster started without them (its first
    // entry is the first leader's no-op) has its initial membership only in persisted.confState;
    // an empty base there would put an empty membership in every snapshot, and a node restarted
    // from one would never campaign or count votes again.
    this.snapshotConf = snap
      ? copyConf(snap.confState)
      : persisted.entries.length > 0 && persisted.entries[0].type === EntryType.ConfChange
        ? { voters: [], learners: [] }
        : copyConf(persisted.confState);
    this.resetProgress();
    this.resetRandomizedElectionTimeout();
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  step(m: Message | LocalMessage): void {
    if (isLocalMessage(m)) {
      this.stepLocal(m);
      return;
    }
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Leader lease (with CheckQuorum): while we hear from a live leader, ignore campaigns from
        // nodes that merely timed out, e.g. one coming back from a partition.
        const inLease =
          this.cfg.checkQuorum && this.leaderId !== NONE && this.electionElapsed < this.cfg.electionTicks;
        if (inLease && !isTransfer(m.context)) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // We asked at term+1; the grant carries that term, which we take only when we campaign.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snapshot
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === MessageType.App || m.type === MessageType.Heartbeat)
      ) {
        // A stale leader that PreVote keeps from ever seeing our term would otherwise never step
        // down; tell it the current term.
        this.send(emptyMessage(MessageType.AppResp, this.id, m.from, this.term));
      } else if (m.type === MessageType.PreVote) {
        const resp = emptyMessage(MessageType.PreVoteResp, this.id, m.from, this.term);
        resp.reject = true;
        this.send(resp);
      }
      return;
    }

    switch (m.type) {
      case MessageType.PreVote:
      case MessageType.Vote:
        this.handleVoteRequest(m);
        return;
    }

    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        break;
      case Role.Follower:
        this.stepFollower(m);
        break;
    }
  }

  private stepLocal(m: LocalMessage): void {
    if (m.type === LocalMessageType.Hup) this.hup();
    else if (this.role === Role.Leader) this.stepLeaderLocal(m);
    else this.stepFollowerLocal(m);
  }

  // ---------------------------------------------------------------- outputs (see RaftNode)

  /** True when messages, read states or a snapshot wait to be handed out. */
  hasOutputs(): boolean {
    return (
      this.pendingSnapshot !== undefined ||
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.readStates.length > 0
    );
  }

  takeOutputs(): Pick<Ready, 'messages' | 'messagesAfterPersist' | 'readStates' | 'snapshot'> {
    const out = {
      messages: this.msgs,
      messagesAfterPersist: this.msgsAfterPersist,
      readStates: this.readStates,
      snapshot: this.pendingSnapshot,
    };
    this.msgs = [];
    this.msgsAfterPersist = [];
    this.readStates = [];
    this.pendingSnapshot = undefined;
    return out;
  }

  /** Messages that may be sent at once, e.g. while the previous Ready is still being persisted. */
  takeMessages(): Message[] {
    const out = this.msgs;
    this.msgs = [];
    return out;
  }

  /** Committed entries handed out count as applied: the runtime applies them in order. */
  appliedTo(committed: readonly Entry[]): void {
    if (committed.length === 0) return;
    this.log.appliedTo(committed[committed.length - 1].index);
    for (const e of committed) {
      if (e.type === EntryType.ConfChange) this.applyConfChangeEntry(e);
    }
  }

  /** The runtime persisted `entries` (possibly none): the leader may now count its own copy. */
  persisted(entries: readonly Entry[]): void {
    if (entries.length > 0) {
      const last = entries[entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (this.role === Role.Leader) {
      // The leader counts toward the quorum only for entries on its own disk.
      const self = this.trk.get(this.id);
      if (self && self.maybeUpdate(this.log.persisted)) this.maybeCommit();
    }
  }

  /** The proposal just stepped: a leader appends it as its last entry. */
  lastProposal(): ProposalTicket {
    return { index: this.log.lastIndex(), term: this.log.lastTerm() };
  }

  status(): RaftStatus {
    const progress = new Map<
      NodeId,
      { matchIndex: number; nextIndex: number; state: string; recentActive: boolean }
    >();
    if (this.role === Role.Leader) {
      for (const [id, pr] of this.trk.all()) {
        progress.set(id, {
          matchIndex: pr.matchIndex,
          nextIndex: pr.nextIndex,
          state: pr.state,
          recentActive: pr.recentActive,
        });
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leaderId: this.leaderId,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      lastIndex: this.log.lastIndex(),
      persistedIndex: this.log.persisted,
      confState: this.trk.confState(),
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /**
   * What a snapshot of the state machine at `index` must carry: the entry's term and the
   * membership in force once entries up to `index` are applied. `index` must lie between the last
   * compaction and the applied index (the state machine cannot be captured anywhere else).
   */
  snapshotMetaAt(index: number): SnapshotMeta {
    if (index < this.log.snapshotIndex || index > this.log.applied) {
      throw new Error(
        `no snapshot possible at ${index}: the log is compacted to ${this.log.snapshotIndex} and applied to ${this.log.applied}`,
      );
    }
    const range =
      index > this.log.snapshotIndex
        ? this.log.slice(this.log.snapshotIndex + 1, index + 1, Infinity, Infinity)
        : [];
    return {
      index,
      term: this.log.term(index)!,
      confState: replayConfChanges(this.snapshotConf, range, index),
    };
  }

  /**
   * Drops log entries up to `index`, which the runtime has captured in a snapshot (its state
   * machine holds everything up to at least `index` durably). Returns the snapshot's metadata,
   * which is what the runtime must record durably too.
   */
  compact(index: number): SnapshotMeta {
    const meta = this.snapshotMetaAt(index);
    this.log.compact(index, meta.term);
    this.snapshotConf = copyConf(meta.confState);
    return meta;
  }

  /** True while a snapshot stepped in from the leader waits to be handed out in a Ready. */
  hasPendingSnapshot(): boolean {
    return this.pendingSnapshot !== undefined;
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leaderId: NodeId): void {
    this.reset(term);
    this.role = Role.Follower;
    this.leaderId = leaderId;
  }

  private becomePreCandidate(): void {
    // PreVote: no term change and no vote cast, so a node that cannot win disturbs nobody.
    this.role = Role.PreCandidate;
    this.leaderId = NONE;
    this.trk.resetVotes();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = Role.Leader;
    this.leaderId = this.id;
    // Conservatively forbid membership changes until everything before our term is applied.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op lets this leader commit (and so learn the commit index) in its own term (§5.4.2).
    const noop: Entry = {
      term: this.term,
      index: this.log.lastIndex() + 1,
      type: EntryType.Normal,
      data: EMPTY_BYTES,
    };
    this.log.append([noop]);
    // A cluster of one commits it as soon as its own disk has it (see advance()).
    this.appendsPending = true;
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leaderId = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    this.readOnly.reset();
    this.pendingReadIndex = [];
    this.appendsPending = false;
    this.commitPending = false;
    this.resetProgress();
  }

  private resetProgress(): void {
    this.trk.resetProgress(this.log.lastIndex() + 1, this.id, this.log.persisted);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout =
      this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks);
  }

  private promotable(): boolean {
    return this.trk.isVoter(this.id);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step({ type: LocalMessageType.Hup });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step({ type: LocalMessageType.CheckQuorum });
      if (this.role !== Role.Leader) return;
      // A transfer not finished within one election timeout is abandoned.
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step({ type: LocalMessageType.Beat });
    }
  }

  // ---------------------------------------------------------------- elections

  private hup(): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    this.campaign(this.cfg.preVote ? 'pre' : 'election');
  }

  private campaign(kind: 'pre' | 'election' | 'transfer'): void {
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    this.trk.recordVote(this.id, true);
    if (this.trk.tallyVotes() === VoteResult.Won) {
      if (kind === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const id of this.trk.voters) {
      if (id === this.id) continue;
      const m = emptyMessage(voteType, this.id, id, term);
      m.index = this.log.lastIndex();
      m.logTerm = this.log.lastTerm();
      if (kind === 'transfer') m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  private handleVoteRequest(m: Message): void {
    const isPre = m.type === MessageType.PreVote;
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.leaderId === NONE) || (isPre && m.term > this.term);
    const respType = isPre ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers at the term asked about; a real vote at our (equal) term.
      this.send(emptyMessage(respType, this.id, m.from, m.term));
      if (!isPre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      const resp = emptyMessage(respType, this.id, m.from, this.term);
      resp.reject = true;
      this.send(resp);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        const expected = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (m.type !== expected) return;
        this.trk.recordVote(m.from, !m.reject);
        const result = this.trk.tallyVotes();
        if (result === VoteResult.Won) {
          if (this.role === Role.PreCandidate) this.campaign('election');
          else this.becomeLeader();
        } else if (result === VoteResult.Lost) {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        if (this.promotable()) this.campaign('transfer');
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  /** Followers and candidates: only a read can be served (by the leader, if one is known). */
  private stepFollowerLocal(m: LocalMessage): void {
    switch (m.type) {
      case LocalMessageType.Propose:
      case LocalMessageType.TransferLeader:
        throw new NotLeaderError(this.leaderId);
      case LocalMessageType.ReadIndex: {
        if (this.leaderId === NONE) throw new NotLeaderError(NONE);
        const fwd = emptyMessage(MessageType.ReadIndex, this.id, this.leaderId, this.term);
        fwd.context = m.context;
        this.send(fwd);
        return;
      }
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      // Old news: everything up to our commit index certainly matches the leader.
      const resp = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
      resp.index = this.log.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    const resp = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
    if (lastNew !== undefined) {
      resp.index = lastNew;
    } else {
      // Fast backtracking: tell the leader the last index that could still match, and its term,
      // so it skips a whole term of mismatching entries per round trip.
      const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
      resp.index = m.index;
      resp.reject = true;
      resp.rejectHint = hint.index;
      resp.hintTerm = hint.term;
    }
    this.send(resp);
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(its commit, our match), so this never runs past what matches.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const resp = emptyMessage(MessageType.HeartbeatResp, this.id, m.from, this.term);
    resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const meta = m.snapshot;
    if (!meta) return;
    const resp = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
    if (meta.index <= this.log.committed) {
      resp.index = this.log.committed;
    } else if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the snapshot's last entry: just fast-forward the commit index. Ack only up
      // to it (as etcd does): entries after it may be an older leader's uncommitted tail, which
      // this leader does not have; acking our last index would let it count us for its own
      // entries at those indexes and commit them on a minority.
      this.log.commitTo(meta.index);
      resp.index = this.log.committed;
    } else {
      this.log.restoreSnapshot(meta.index, meta.term);
      this.trk.setConf(meta.confState);
      this.snapshotConf = copyConf(meta.confState);
      this.pendingSnapshot = meta;
      resp.index = meta.index;
    }
    this.send(resp);
  }

  // ---------------------------------------------------------------- leader

  private stepLeaderLocal(m: LocalMessage): void {
    switch (m.type) {
      case LocalMessageType.Beat:
        this.bcastHeartbeat(this.readOnly.lastPendingContext() ?? EMPTY_BYTES);
        return;
      case LocalMessageType.CheckQuorum:
        // Cut off from a majority: stop accepting writes that could never commit.
        if (!this.trk.checkQuorumActive(this.id)) this.becomeFollower(this.term, NONE);
        return;
      case LocalMessageType.Propose:
        this.appendProposal(m.entryType, m.data);
        return;
      case LocalMessageType.ReadIndex:
        this.leaderReadIndex(m.context, this.id);
        return;
      case LocalMessageType.TransferLeader:
        this.startTransfer(m.to);
        return;
      case LocalMessageType.SnapStatus: {
        const pr = this.trk.get(m.from);
        if (!pr || pr.state !== ProgressState.Snapshot) return;
        if (m.failed) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        return;
      }
      case LocalMessageType.Hup:
        return;
    }
  }

  private appendProposal(type: EntryType, data: Uint8Array): void {
    if (type === EntryType.ConfChange && this.pendingConfIndex > this.log.applied) {
      throw new ProposalRejectedError('a membership change is already in progress; retry when it completes');
    }
    // During a transfer new writes would only delay the target catching up; refuse them.
    if (this.leadTransferee !== NONE) throw new NotLeaderError(NONE);
    const entry: Entry = { term: this.term, index: this.log.lastIndex() + 1, type, data };
    this.log.append([entry]);
    if (type === EntryType.ConfChange) this.pendingConfIndex = entry.index;
    // Sent at the next flush (hasReady/ready/drainMessages), so proposals made in the same
    // turn of the runtime's event loop share one AppendEntries per follower.
    this.appendsPending = true;
  }

  private startTransfer(to: NodeId): void {
    if (to === this.id || !this.trk.isVoter(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The transfer must finish within one election timeout or it is abandoned.
    this.electionElapsed = 0;
    const pr = this.trk.get(to)!;
    if (pr.matchIndex === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  private stepLeader(m: Message): void {
    const pr = this.trk.get(m.from);
    switch (m.type) {
      case MessageType.AppResp:
        if (pr) this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        if (pr) this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex(m.context, m.from);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.rejectHint;
      if (m.hintTerm > 0) hint = this.log.findConflictByTerm(m.rejectHint, m.hintTerm).index;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === ProgressState.Probe) pr.becomeReplicate();
    else if (pr.state === ProgressState.Snapshot && pr.matchIndex >= pr.pendingSnapshot) pr.becomeProbe();
    else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);

    // A commit advance schedules a broadcast that carries it, and what it lacks, to everyone; one
    // held back (lazyCommitBroadcast) must not hold this follower's pipeline back with it.
    const broadcastComing = this.maybeCommit() && !this.cfg.lazyCommitBroadcast;
    if (!broadcastComing && (wasPaused || pr.nextIndex <= this.log.lastIndex())) {
      this.sendAppend(m.from, false);
    }
    if (m.from === this.leadTransferee && pr.matchIndex === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // A lost AppendEntries could leave the window full forever; free one slot to retry.
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.matchIndex < this.log.lastIndex()) this.sendAppend(m.from, true);

    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    if (!this.trk.hasQuorum(acks)) return;
    for (const read of this.readOnly.advance(m.context)) this.answerRead(read.from, read.index, read.context);
  }

  private leaderReadIndex(context: Uint8Array, from: NodeId): void {
    if (!this.committedInCurrentTerm()) {
      // Our commit index may lag the previous leader's until our no-op commits (§6.4 step 1).
      this.pendingReadIndex.push({ context, from });
      return;
    }
    if (this.trk.isSingleton(this.id)) {
      this.answerRead(from, this.log.committed, context);
      return;
    }
    this.readOnly.add(context, this.log.committed, from, this.id);
    this.bcastHeartbeat(context);
  }

  private answerRead(to: NodeId, index: number, context: Uint8Array): void {
    if (to === this.id) {
      this.readStates.push({ index, context });
    } else {
      const resp = emptyMessage(MessageType.ReadIndexResp, this.id, to, this.term);
      resp.index = index;
      resp.context = context;
      this.send(resp);
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private maybeCommit(): boolean {
    const index = this.trk.committed();
    // Only entries of the current term are committed by counting replicas (§5.4.2, Figure 8).
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    const firstInTerm = !this.committedInCurrentTerm();
    const before = this.log.committed;
    this.log.commitTo(index);
    this.commitPending = true;
    // A membership change (or a new term's first commit) is announced at once even when lazy: a
    // removed follower must learn of its removal before the leader stops writing to it, or it
    // would campaign forever; and a new leader's followers should learn its commit index promptly.
    if (firstInTerm || (before < this.pendingConfIndex && this.pendingConfIndex <= index)) {
      this.appendsPending = true;
    }
    if (firstInTerm && this.pendingReadIndex.length > 0) {
      const waiting = this.pendingReadIndex;
      this.pendingReadIndex = [];
      for (const r of waiting) this.leaderReadIndex(r.context, r.from);
    }
    return true;
  }

  /** Sends the appends (and commit advances) held since the last flush. */
  flushBroadcast(): void {
    const commitNow = this.commitPending && !this.cfg.lazyCommitBroadcast;
    if (!this.appendsPending && !commitNow) return;
    this.broadcastAppends();
  }

  /** Every follower gets what it lacks, with the current commit index (empty if nothing else). */
  private broadcastAppends(): void {
    this.appendsPending = false;
    this.commitPending = false;
    if (this.role !== Role.Leader) return;
    for (const [id] of this.trk.peers(this.id)) this.sendAppend(id, true);
  }

  /**
   * A commit advance not yet sent to the followers. Without lazyCommitBroadcast the next
   * hasReady()/ready() sends it, so it never outlives a Ready; with it, it waits for a flush.
   */
  get commitBroadcastPending(): boolean {
    return this.commitPending && this.role === Role.Leader;
  }

  /** Sends the held commit index now (see RaftConfig.lazyCommitBroadcast); messages as usual. */
  flushCommitBroadcast(): void {
    if (this.commitPending) this.broadcastAppends();
  }

  /**
   * Sends what follower `to` is missing, pipelining several AppendEntries in Replicate state until
   * the in-flight window is full. With `sendIfEmpty`, a message goes out even with no new entries
   * (to carry the commit index, or as a probe).
   */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): void {
    const pr = this.trk.get(to);
    if (!pr || to === this.id) return;
    let sentAny = false;
    while (!pr.isPaused()) {
      const prevIndex = pr.nextIndex - 1;
      const prevTerm = this.log.term(prevIndex);
      if (prevTerm === undefined) {
        this.sendSnapshotNotice(to, pr);
        return;
      }
      const entries =
        pr.nextIndex <= this.log.lastIndex()
          ? this.log.slice(
              pr.nextIndex,
              this.log.lastIndex() + 1,
              this.cfg.maxBytesPerMessage,
              this.cfg.maxEntriesPerMessage,
            )
          : [];
      if (entries.length === 0 && (sentAny || !sendIfEmpty)) return;
      const m = emptyMessage(MessageType.App, this.id, to, this.term);
      m.index = prevIndex;
      m.logTerm = prevTerm;
      m.entries = entries;
      m.commit = this.log.committed;
      this.send(m);
      pr.sentEntries(entries.length > 0 ? entries[entries.length - 1].index : undefined);
      sentAny = true;
      if (entries.length === 0 || pr.state !== ProgressState.Replicate) return;
    }
  }

  /** The follower needs entries we compacted: it must install our snapshot (sent out of band). */
  private sendSnapshotNotice(to: NodeId, pr: Progress): void {
    if (!pr.recentActive) return;
    const m = emptyMessage(MessageType.Snapshot, this.id, to, this.term);
    // The runtime streams its state machine, captured at some index at or after this one, and
    // describes it with snapshotMetaAt(); this meta only says "from here on, we have no entries".
    m.snapshot = {
      index: this.log.snapshotIndex,
      term: this.log.snapshotTerm,
      confState: copyConf(this.snapshotConf),
    };
    pr.becomeSnapshot(this.log.snapshotIndex);
    this.send(m);
  }

  private bcastHeartbeat(context: Uint8Array): void {
    for (const [id, pr] of this.trk.peers(this.id)) {
      const m = emptyMessage(MessageType.Heartbeat, this.id, id, this.term);
      m.commit = Math.min(pr.matchIndex, this.log.committed);
      m.context = context;
      this.send(m);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(emptyMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  // ---------------------------------------------------------------- membership

  private applyConfChangeEntry(e: Entry): void {
    this.trk.applyConfChange(decodeConfChange(e.data), this.log.lastIndex() + 1);
    if (this.role !== Role.Leader) return;
    if (!this.trk.isVoter(this.id)) {
      // Removed from the cluster: stop leading so the remaining voters elect one of their own.
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) {
      this.leadTransferee = NONE;
    }
    // A smaller quorum may commit more at once; new members need their first AppendEntries.
    this.maybeCommit();
    this.appendsPending = true;
  }

  // ---------------------------------------------------------------- helpers

  private send(m: Message): void {
    if (AFTER_PERSIST.has(m.type)) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leaderId: this.leaderId, role: this.role };
  }
}
