// Raft's safety properties, checked incrementally as the harness observes the cluster. The checker
// only ever sees what an outside observer could see: what each node wrote to its disk, what it
// applied, what it sent, and its status(). It keeps global history (every leader, every vote,
// every committed prefix ever seen), so a property broken at any time is caught at that time.
// Snapshots are held to the same standard as the log they replace: a snapshot (taken by compaction,
// captured for a follower, installed, or restarted from) must stand for a committed prefix, carry
// that prefix's last term and membership, and a state machine must always reflect exactly the
// committed entries up to its applied index, whether it got them one by one or from a snapshot.
import { applyConfChange, decodeConfChange } from '../../../src/raft/confchange.js';
import {
  EntryType,
  MessageType,
  Role,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type SnapshotMeta,
} from '../../../src/raft/types.js';
import type { RaftStatus } from '../../../src/raft/api.js';
import type { DurableLog, PrefixInterner, WriteResult } from './durable-log.js';
import { bytesKey } from './messages.js';
import type { StoredSnapshot } from './snapshots.js';

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

function fail(msg: string): never {
  throw new InvariantViolation(msg);
}

interface NodeWatch {
  incarnation: number;
  commitIndex: number;
  term: number;
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly number[], y: readonly number[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

function showConf(c: ConfState): string {
  return `voters=[${c.voters.join(',')}] learners=[${c.learners.join(',')}]`;
}

export class SafetyChecker {
  /** Every (term → leader) ever observed. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Every vote ever granted or persisted: `${voter}:${term}` → candidate. */
  private readonly voteOf = new Map<string, NodeId>();
  /** Every log entry ever persisted anywhere: `${index}:${term}` → prefix id of the log up to it. */
  private readonly prefixOfEntry = new Map<string, number>();
  /**
   * The committed log as far as anyone has shown it to us: committedIds[i] is the prefix id of
   * entries 1..i. commitBound[i] is a term T such that a leader of term ≤ T committed index i
   * (the observer's own term at the time), so every leader of a term > T must hold it. Bounds
   * are kept non-decreasing in i: committing i commits everything before it.
   */
  private readonly committedIds: number[] = [0];
  private readonly commitBound: number[] = [0];
  /** What each node applied: appliedIds[i] is the prefix id applied at index i (all nodes agree). */
  private readonly appliedIds: number[] = [0];
  /** Client payload → index it was applied at (a proposal must never be applied twice). */
  private readonly appliedPayload = new Map<string, number>();
  /** Tickets returned by propose(): `${index}:${term}` → payload the entry there must carry. */
  private readonly ticketPayload = new Map<string, string>();
  private readonly watch = new Map<NodeId, NodeWatch>();
  /** The highest commitIndex any node has reported: every index up to it is committed. */
  private maxCommitIndex = 0;
  private readonly logs = new Map<NodeId, DurableLog>();
  /** Outstanding readIndex requests: context → (node, commit watermark when it was asked). */
  private readonly reads = new Map<string, { node: NodeId; watermark: number }>();
  /**
   * Where each term's leader began writing: its no-op's index, and the prefix id of its log just
   * before it (its election log, which it never changes during its term).
   */
  private readonly termStart = new Map<number, { index: number; prevPrefix: number }>();
  /** Membership after each committed conf-change entry, in index order (from first applies). */
  private readonly confTimeline: { index: number; conf: ConfState }[] = [];
  /** Entries 1..bootstrapLength are the bootstrapped membership (0 without bootstrap). */
  private bootstrapLength = 0;
  readonly counters = { leadersSeen: 0, commits: 0, applies: 0, readStates: 0, snapshotChecks: 0 };

  /**
   * `initialConf` is the membership the runtime passes to a core that has no snapshot. A
   * bootstrapped log describes its membership itself from entry 1 on, so a snapshot inside it
   * counts membership from nothing; otherwise from `initialConf`.
   */
  constructor(
    private readonly interner: PrefixInterner,
    private readonly initialConf: ConfState,
    private readonly bootstrapped: boolean,
  ) {}

  registerLog(id: NodeId, log: DurableLog): void {
    this.logs.set(id, log);
  }

  /** Highest index known committed. */
  watermark(): number {
    return this.committedIds.length - 1;
  }

  /** The index a client payload was applied at, if any node applied it. */
  appliedIndexOf(payload: string): number | undefined {
    return this.appliedPayload.get(payload);
  }

  /**
   * A node starts from a bootstrapped log (the initial membership as committed entries, identical
   * on every node): known committed before any leader exists, so every leader must hold it.
   */
  observeBootstrap(id: NodeId, log: DurableLog, commit: number): void {
    for (let k = 1; k <= log.lastIndex(); k++) {
      const key = `${k}:${log.termAt(k)}`;
      const known = this.prefixOfEntry.get(key);
      if (known !== undefined && known !== log.prefixId(k)) fail(`node ${id} bootstrapped a different log`);
      this.prefixOfEntry.set(key, log.prefixId(k));
    }
    for (let i = this.watermark() + 1; i <= commit; i++) {
      this.committedIds.push(log.prefixId(i));
      // Entries with no leader behind them: say the bootstrap term committed them.
      this.commitBound.push(log.termAt(i));
    }
    this.bootstrapLength = Math.max(this.bootstrapLength, log.lastIndex());
  }

  // ---- membership --------------------------------------------------------------------------

  /**
   * The membership once committed entries 1..index are applied (undefined beyond what any node
   * applied, where the checker has not seen the entries yet).
   */
  membershipAt(index: number): ConfState | undefined {
    if (index > this.appliedIds.length - 1) return undefined;
    let lo = 0;
    let hi = this.confTimeline.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.confTimeline[mid].index <= index) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) return this.confTimeline[lo - 1].conf;
    return this.bootstrapped ? { voters: [], learners: [] } : this.initialConf;
  }

  /**
   * The membership a core must be running with once it applied `applied`: that of the log, except
   * that before a bootstrapped node applies its bootstrap entries it runs with the membership the
   * runtime passed (the same one, complete).
   */
  private runningConfAt(applied: number): ConfState | undefined {
    if (this.bootstrapped && applied < this.bootstrapLength) return this.initialConf;
    return this.membershipAt(applied);
  }

  /** A core's membership (status().confState) when its applied index is `applied`. */
  observeRunningConf(id: NodeId, applied: number, conf: ConfState, what: string): void {
    const expected = this.runningConfAt(applied);
    if (expected && !sameConf(expected, conf)) {
      fail(
        `node ${id} ${what} runs with ${showConf(conf)} at applied ${applied}, but the committed log ` +
          `up to there says ${showConf(expected)}`,
      );
    }
  }

  // ---- elections -------------------------------------------------------------------------

  /** status() (and snapshotIndex) of a live node, after every step that touched it. */
  observeStatus(
    id: NodeId,
    incarnation: number,
    st: RaftStatus,
    durable: HardState,
    snapshotIndex: number,
  ): void {
    if (st.id !== id) fail(`node ${id} reports id ${st.id}`);
    if (snapshotIndex > st.appliedIndex) {
      fail(`node ${id} snapshotIndex ${snapshotIndex} is beyond its appliedIndex ${st.appliedIndex}`);
    }
    const w = this.watch.get(id);
    if (w && w.incarnation === incarnation) {
      if (st.commitIndex < w.commitIndex) {
        fail(`node ${id} commitIndex went back from ${w.commitIndex} to ${st.commitIndex}`);
      }
      if (st.term < w.term) fail(`node ${id} term went back from ${w.term} to ${st.term}`);
    }
    this.watch.set(id, { incarnation, commitIndex: st.commitIndex, term: st.term });
    if (st.commitIndex > this.maxCommitIndex) this.maxCommitIndex = st.commitIndex;
    if (st.commitIndex > st.lastIndex) {
      fail(`node ${id} commitIndex ${st.commitIndex} is beyond its lastIndex ${st.lastIndex}`);
    }
    if (st.appliedIndex > st.commitIndex) {
      fail(`node ${id} appliedIndex ${st.appliedIndex} is beyond its commitIndex ${st.commitIndex}`);
    }
    if (st.term < durable.term)
      fail(`node ${id} runs at term ${st.term} below its persisted term ${durable.term}`);
    if (st.role === Role.Leader) {
      if (st.leaderId !== id)
        fail(`node ${id} is leader of term ${st.term} but names ${st.leaderId} as leader`);
      this.observeLeader(st.term, id);
    }
  }

  observeLeader(term: number, id: NodeId): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev === undefined) {
      this.leaderOfTerm.set(term, id);
      this.counters.leadersSeen++;
    } else if (prev !== id) {
      fail(`two leaders in term ${term}: node ${prev} and node ${id}`);
    }
  }

  /** A vote became visible: persisted in a HardState, or granted in a VoteResp. */
  private observeVote(voter: NodeId, term: number, candidate: NodeId, how: string): void {
    const key = `${voter}:${term}`;
    const prev = this.voteOf.get(key);
    if (prev === undefined) this.voteOf.set(key, candidate);
    else if (prev !== candidate) {
      fail(`node ${voter} voted twice in term ${term}: for ${prev}, then for ${candidate} (${how})`);
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * A message leaves a node. Whatever it promises must already be on that node's disk: a vote
   * grant needs the vote persisted, an append ack needs the acked entries persisted.
   */
  observeSend(m: Message, durable: HardState, log: DurableLog): void {
    if (m.type === MessageType.VoteResp && !m.reject) {
      // Safe once the disk rules out any other vote in m.term: it holds this vote, or a later
      // term (a node never votes in a term below its own).
      if (durable.term < m.term || (durable.term === m.term && durable.vote !== m.to)) {
        fail(
          `node ${m.from} granted its vote to ${m.to} in term ${m.term} before persisting it ` +
            `(disk has term ${durable.term} vote ${durable.vote})`,
        );
      }
      this.observeVote(m.from, m.term, m.to, 'VoteResp');
    }
    // Unless the disk has moved past the ack's term: an ack generated at term t may leave after a
    // leader of a later term truncated those entries, which is no worse than the network delaying
    // the ack (by then the old leader's term is over).
    if (m.type === MessageType.AppResp && !m.reject && durable.term <= m.term) {
      if (m.index > log.lastIndex()) {
        fail(`node ${m.from} acked index ${m.index} to ${m.to} but only ${log.lastIndex()} is on its disk`);
      }
      if (durable.term === m.term) this.checkAckMatchesLeader(m, log);
    }
  }

  /**
   * An append ack at term t for index i promises the leader of t that the sender's log equals the
   * leader's up to i (the leader counts it toward commitment). The leader's log in term t is its
   * election log up to its no-op at n, then entries of term t only. So: for i ≥ n the sender's
   * entry at i must be of term t (hence the leader's, by log matching); for i < n its prefix must
   * be the election log's.
   */
  private checkAckMatchesLeader(m: Message, log: DurableLog): void {
    const i = m.index;
    const start = this.termStart.get(m.term);
    if (i === 0 || start === undefined) return;
    if (i >= start.index) {
      // An index inside the sender's snapshot is committed: the snapshot checks cover it.
      if (i > log.snapshotIndex && log.termAt(i) !== m.term) {
        fail(
          `node ${m.from} acked index ${i} to ${m.to} in term ${m.term}, but its entry there is from term ` +
            `${log.termAt(i)}, while the leader of term ${m.term} has its own entries from ${start.index} on`,
        );
      }
      return;
    }
    const n = start.index;
    // Fast path: the sender holds the leader's whole election log.
    if (log.lastIndex() >= n - 1 && log.prefixId(n - 1) === start.prevPrefix) return;
    if (log.prefixId(i) !== this.interner.ancestor(start.prevPrefix, n - 1 - i)) {
      fail(
        `node ${m.from} acked index ${i} to ${m.to} in term ${m.term}, but its log up to ${i} differs from ` +
          `that leader's`,
      );
    }
  }

  // ---- persisting ------------------------------------------------------------------------

  /** Before a write: the highest index at which `log` holds the committed prefix. */
  committedHeld(log: DurableLog): number {
    let lo = 0;
    let hi = Math.min(log.lastIndex(), this.watermark());
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (log.prefixId(mid) === this.committedIds[mid]) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** A HardState is about to be written over `prev`. */
  observeHardState(id: NodeId, prev: HardState, next: HardState): void {
    if (next.term < prev.term) fail(`node ${id} persisted term ${next.term} over ${prev.term}`);
    if (next.term === prev.term && prev.vote !== 0 && next.vote !== prev.vote) {
      fail(`node ${id} changed its persisted vote in term ${next.term} from ${prev.vote} to ${next.vote}`);
    }
    if (next.commit < prev.commit) fail(`node ${id} persisted commit ${next.commit} over ${prev.commit}`);
    if (next.vote !== 0) this.observeVote(id, next.term, next.vote, 'persisted HardState');
  }

  /** After a durable write of `ents` (and the HardState `hs`) on node `id`. */
  observePersist(
    id: NodeId,
    log: DurableLog,
    wr: WriteResult,
    held: number,
    ents: readonly Entry[],
    hs: HardState,
  ): void {
    if (held > 0 && (log.lastIndex() < held || log.prefixId(held) !== this.committedIds[held])) {
      fail(`node ${id} lost committed entry ≤ ${held}: its log was rewritten from index ${wr.firstChanged}`);
    }
    for (const e of ents) this.observeEntry(id, log, e.index);
    if (hs.commit > log.lastIndex()) {
      fail(`node ${id} persisted commit ${hs.commit} but its log on disk ends at ${log.lastIndex()}`);
    }
    this.observeCommitted(id, log, hs.commit, hs.term);
  }

  /** Log matching, term order, and the no-op rule for the entry at `k` of a durable log. */
  private observeEntry(id: NodeId, log: DurableLog, k: number): void {
    const e = log.entryAt(k);
    const prevTerm = log.termAt(k - 1);
    if (e.term < prevTerm) fail(`node ${id} log has term ${e.term} at ${k} after term ${prevTerm}`);
    const key = `${k}:${e.term}`;
    const known = this.prefixOfEntry.get(key);
    const mine = log.prefixId(k);
    if (known !== undefined) {
      if (known !== mine) {
        fail(
          `log matching: node ${id} has entry ${k}/t${e.term} but its log up to it differs from another log's`,
        );
      }
      return;
    }
    // First sighting of this entry anywhere: the checks below run once per distinct entry.
    this.prefixOfEntry.set(key, mine);
    if (prevTerm < e.term) {
      if (e.type !== EntryType.Normal || e.data.length !== 0) {
        fail(
          `entry ${k} is the first of term ${e.term} but not a no-op (leaders must start their term with one)`,
        );
      }
      // Log matching makes this the one place where term e.term starts, in every log.
      this.termStart.set(e.term, { index: k, prevPrefix: log.prefixId(k - 1) });
    }
    const expected = this.ticketPayload.get(key);
    if (expected !== undefined && (e.type !== EntryType.Normal || bytesKey(e.data) !== expected)) {
      fail(`entry ${k}/t${e.term} does not carry the payload propose() returned that ticket for`);
    }
    this.checkLeaderCompleteness(id, log, k);
  }

  /**
   * Leader completeness via the log: an entry of term T exists only because the leader of T put
   * it there, after its election log; so every entry committed by a leader of a term < T must
   * precede it, identically.
   */
  private checkLeaderCompleteness(id: NodeId, log: DurableLog, k: number): void {
    const term = log.termAt(k);
    // Largest committed index whose bound is below `term` (bounds are non-decreasing).
    let lo = 0;
    let hi = this.watermark();
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.commitBound[mid] < term) lo = mid;
      else hi = mid - 1;
    }
    if (lo === 0) return;
    if (lo >= k || log.prefixId(lo) !== this.committedIds[lo]) {
      fail(
        `leader completeness: node ${id} holds entry ${k}/t${term} from the leader of term ${term}, ` +
          `but that leader's log lacked entry ${lo}, committed by a leader of term ≤ ${this.commitBound[lo]}`,
      );
    }
  }

  /** Node `id` (at term `bound`) shows `c` as committed, with `log` holding those entries. */
  private observeCommitted(id: NodeId, log: DurableLog, c: number, bound: number): void {
    if (c === 0) return;
    const w = this.watermark();
    const common = Math.min(c, w);
    if (common > 0 && log.prefixId(common) !== this.committedIds[common]) {
      fail(`node ${id} holds a committed prefix up to ${common} that differs from what was committed before`);
    }
    for (let i = w + 1; i <= c; i++) {
      this.committedIds.push(log.prefixId(i));
      this.commitBound.push(bound);
      this.counters.commits++;
    }
    let tightened = false;
    for (let i = Math.min(c, w); i > 0 && this.commitBound[i] > bound; i--) {
      this.commitBound[i] = bound;
      tightened = true;
    }
    // New commit knowledge can convict an entry written earlier: recheck each log's tip (the
    // tip has the highest term, so it is the strictest test of its log).
    if (c > w || tightened) {
      for (const [other, l] of this.logs)
        if (l.lastIndex() > 0) this.checkLeaderCompleteness(other, l, l.lastIndex());
    }
  }

  // ---- applying --------------------------------------------------------------------------

  /**
   * Node `id` applies `e` to a state machine at `sm` (applied index and digest, durable). Returns
   * the digest after it: the state machine must reflect exactly the committed log up to there.
   */
  observeApply(
    id: NodeId,
    log: DurableLog,
    e: Entry,
    sm: { applied: number; digest: number },
    durableTerm: number,
  ): number {
    if (e.index !== sm.applied + 1) {
      fail(`node ${id} was handed entry ${e.index} to apply after applying ${sm.applied} (gap or repeat)`);
    }
    if (e.index > log.lastIndex())
      fail(`node ${id} was handed entry ${e.index} to apply before it was on disk`);
    if (e.index <= log.snapshotIndex)
      fail(
        `node ${id} was handed entry ${e.index} to apply, which its disk compacted (${log.snapshotIndex})`,
      );
    const id_ = this.interner.idFor(log.prefixId(e.index - 1), e);
    if (id_ !== log.prefixId(e.index)) {
      fail(`node ${id} was handed entry ${e.index}/t${e.term} to apply, but its disk holds a different one`);
    }
    const digest = this.interner.idFor(sm.digest, e);
    if (digest !== id_) {
      fail(`node ${id}'s state machine at ${e.index} does not reflect the log it applied from`);
    }
    const prev = this.appliedIds[e.index];
    if (prev === undefined) {
      this.appliedIds[e.index] = id_;
      if (e.type === EntryType.ConfChange) {
        const before = this.membershipAt(e.index - 1);
        if (!before) fail(`node ${id} is the first to apply ${e.index}, but nobody applied ${e.index - 1}`);
        this.confTimeline.push({ index: e.index, conf: applyConfChange(before, decodeConfChange(e.data)) });
      }
    } else if (prev !== id_)
      fail(`state machine safety: nodes applied different entries at index ${e.index}`);
    this.counters.applies++;
    this.observeCommitted(id, log, e.index, durableTerm);
    if (e.type === EntryType.Normal && e.data.length > 0) {
      const payload = bytesKey(e.data);
      const at = this.appliedPayload.get(payload);
      if (at === undefined) this.appliedPayload.set(payload, e.index);
      else if (at !== e.index) fail(`payload ${payload} applied at index ${at} and again at ${e.index}`);
    }
    return digest;
  }

  // ---- snapshots -------------------------------------------------------------------------

  /**
   * A snapshot's metadata as node `id` produced it (compaction, a Snapshot message, a capture for
   * a transfer), with `log` its disk at that moment, which still holds the index: it must name a
   * committed prefix, that prefix's last term, and the membership that prefix results in.
   */
  observeSnapshotMeta(id: NodeId, meta: SnapshotMeta, log: DurableLog, what: string): void {
    this.counters.snapshotChecks++;
    const where = `node ${id}'s ${what} at ${meta.index}`;
    if (meta.index < 0 || meta.index > log.lastIndex())
      fail(`${where} is beyond its log (last ${log.lastIndex()})`);
    if (meta.index > this.watermark())
      fail(`${where} is beyond anything known committed (${this.watermark()})`);
    if (log.prefixId(meta.index) !== this.committedIds[meta.index]) {
      fail(`${where} stands for a log prefix that differs from the committed one`);
    }
    if (meta.index >= log.snapshotIndex && meta.term !== log.termAt(meta.index)) {
      fail(`${where} says term ${meta.term}, but the entry there is from term ${log.termAt(meta.index)}`);
    }
    this.checkSnapshotConf(where, meta);
  }

  private checkSnapshotConf(where: string, meta: SnapshotMeta): void {
    const expected = this.membershipAt(meta.index);
    if (expected && !sameConf(expected, meta.confState)) {
      fail(
        `${where} carries ${showConf(meta.confState)}, but the committed log up to there makes ` +
          showConf(expected),
      );
    }
  }

  /**
   * Node `id` was handed `meta` in a Ready to install, and found `stored` (what it received and
   * stored) for it; `prevCommit` is its durable commit index before. A snapshot is only
   * installed when it is news, and must be exactly the committed state it claims to be.
   */
  observeInstall(id: NodeId, meta: SnapshotMeta, stored: StoredSnapshot, prevCommit: number): void {
    this.counters.snapshotChecks++;
    const where = `node ${id} installing the snapshot at ${meta.index}/t${meta.term}`;
    if (meta.index <= prevCommit) fail(`${where}: it had already committed ${prevCommit}`);
    const s = stored.meta;
    if (s.index !== meta.index || s.term !== meta.term || !sameConf(s.confState, meta.confState)) {
      fail(`${where}: the core's metadata differs from the stored snapshot's`);
    }
    if (stored.image.applied !== meta.index || stored.image.digest !== stored.prefixIds[meta.index]) {
      fail(`${where}: the stored image is not the state at ${meta.index}`);
    }
    if (meta.index > this.watermark() || stored.image.digest !== this.committedIds[meta.index]) {
      fail(`${where}: it does not stand for the committed log up to there`);
    }
    this.checkSnapshotConf(where, meta);
  }

  /** Node `id`'s state machine (after an install or a restart) is at `applied` with `digest`. */
  observeStateMachine(id: NodeId, applied: number, digest: number, what: string): void {
    if (applied > this.watermark() || digest !== this.committedIds[applied]) {
      fail(`node ${id}'s state machine ${what} does not reflect the committed log up to ${applied}`);
    }
  }

  // ---- clients ---------------------------------------------------------------------------

  observeTicket(index: number, term: number, payload: string): void {
    this.ticketPayload.set(`${index}:${term}`, payload);
  }

  observeReadRequest(id: NodeId, context: Uint8Array): void {
    this.reads.set(bytesKey(context), {
      node: id,
      watermark: Math.max(this.watermark(), this.maxCommitIndex),
    });
  }

  /**
   * Linearizable reads: the read index covers every commit that had happened anywhere when the
   * read began (any node's commitIndex, on disk or in memory, names committed entries).
   */
  observeReadState(id: NodeId, rs: ReadState): void {
    const key = bytesKey(rs.context);
    const req = this.reads.get(key);
    if (!req) fail(`node ${id} returned a ReadState for unknown context ${JSON.stringify(key)}`);
    if (req.node !== id) fail(`ReadState for ${key} (asked on node ${req.node}) surfaced on node ${id}`);
    if (rs.index < req.watermark) {
      fail(
        `ReadState for ${key} has index ${rs.index}, but ${req.watermark} was committed before the read began`,
      );
    }
    this.counters.readStates++;
  }
}
